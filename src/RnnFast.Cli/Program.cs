// `rnnfast`: the command-line entry. Each command lives in its own file; this one wires them together.
using System.CommandLine;
using RnnFast.Cli;

BackendCatalog.RegisterAll();
var root = new RootCommand("RnnFast: recurrent networks (RNN, LSTM, GRU) on managed SIMD, oneDNN, OpenCL or cuDNN backends");
root.Subcommands.Add(InfoCommand.Create());
root.Subcommands.Add(CheckCommand.Create());
root.Subcommands.Add(VerifyCommand.Create());
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(SampleCommand.Create());
root.Subcommands.Add(ClassifyCommand.Create());
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
return root.Parse(args).Invoke();
