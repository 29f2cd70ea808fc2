// Every rnn_layer reference case through the autograd tape (the path training takes): the loss PyTorch used,
// sum(output*grad_output) + sum(h_n*grad_h_n) [+ sum(c_n*grad_c_n)], backpropagated by the tape, must give PyTorch's
// gradients for the input, h0, c0 and every parameter.
using RnnFast.Autograd;
using RnnFast.Backends;
using RnnFast.Checks;
using Xunit;
using Xunit.Abstractions;

namespace RnnFast.Tests;

public sealed class GoldenTapeTests(ITestOutputHelper output)
{
    [BackendTheory]
    [MemberData(nameof(BackendData.BackendsTimesLayerGoldens), MemberType = typeof(BackendData))]
    public void Golden_gradients_through_the_tape(string backend, string golden)
    {
        var c = ReferenceCaseRunner.LoadRnnLayer(TestPaths.Golden(golden));
        using var plan = BackendRegistry.Get(backend).CreateRnnPlan(c.Parameters);
        var parameters = plan.Parameters.Tensors.Select((t, i) => Variable.Parameter(t, plan.Parameters.Ids[i].TorchName)).ToArray();
        var x = Variable.Parameter(c.Input.Clone(), "input");
        var h0 = c.H0 == null ? null : Variable.Parameter(c.H0.Clone(), "h0");
        var c0 = c.C0 == null ? null : Variable.Parameter(c.C0.Clone(), "c0");

        var tape = new Tape();
        var r = tape.Rnn(plan, x, h0, c0, c.Lengths, parameters);
        var terms = new List<Variable>();
        if (c.GradOutput != null) terms.Add(tape.Sum(tape.Mul(r.Output, Variable.Constant(c.GradOutput))));
        if (c.GradHN != null) terms.Add(tape.Sum(tape.Mul(r.HN, Variable.Constant(c.GradHN))));
        if (c.GradCN != null && r.CN != null) terms.Add(tape.Sum(tape.Mul(r.CN, Variable.Constant(c.GradCN))));
        Assert.NotEmpty(terms);
        var loss = terms.Aggregate(tape.Add);
        tape.Backward(loss);

        var checks = new List<TensorCheck>
        {
            TensorComparison.Compare("output", r.Output.Value, c.Expected["output"]),
            TensorComparison.Compare("h_n", r.HN.Value, c.Expected["h_n"]),
            TensorComparison.Compare("grad_input", x.Grad!, c.Expected["grad_input"]),
        };
        if (h0 != null) checks.Add(TensorComparison.Compare("grad_h0", h0.Grad!, c.Expected["grad_h0"]));
        if (c0 != null) checks.Add(TensorComparison.Compare("grad_c0", c0.Grad!, c.Expected["grad_c0"]));
        foreach (var p in parameters)
            checks.Add(TensorComparison.Compare("grad." + p.Name, p.Grad!, c.Expected["grad." + p.Name]));

        foreach (var check in checks) output.WriteLine(check.ToString());
        var failed = checks.Where(k => !k.Passed).Select(k => k.ToString()).ToList();
        Assert.True(failed.Count == 0, $"{golden} on {backend}: " + string.Join("; ", failed));
    }
}
