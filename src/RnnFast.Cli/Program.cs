// `rnnfast`: the command-line entry. Each command lives in its own file; CliApp wires them together.
using RnnFast.Cli;

return CliApp.Run(args);
