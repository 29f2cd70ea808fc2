using RnnFast.Backends;
using RnnFast.Models;
foreach (var b in BackendRegistry.All)
    Console.WriteLine($"backend {b.Name} available={b.IsAvailable} reason={b.Availability.Reason}");
using var model = RnnModel.Load(args[0]);
Console.WriteLine($"model on {model.Backend.Name}");
var state = model.NewState();
Console.WriteLine($"step {model.Step(state, 0).Length}");
