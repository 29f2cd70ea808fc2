// Every backend's plan refuses work once disposed (issue 15): Forward, Backward and CreateStepper throw
// ObjectDisposedException naming the plan, a stepper made before the Dispose throws it from Step, and Dispose twice
// is fine.
using RnnFast.Backends;
using Xunit;

namespace RnnFast.Tests;

public sealed class DisposedPlanTests
{
    private const string Spec = "lstm:I5:H7:L2:D1:P0:h0"; // unidirectional, so it streams too

    private static (IRnnPlan Plan, RnnInputs Inputs) Make(string backend)
    {
        var (desc, inputs) = RnnTestProblems.MakeProblem(Spec, seed: 21);
        return (BackendRegistry.Get(backend).CreateRnnPlan(RnnParameters.Create(desc, new Random(22))), inputs);
    }

    private static void AssertDisposed(IRnnPlan plan, Action act)
    {
        var e = Assert.Throws<ObjectDisposedException>(act);
        Assert.Contains(plan.GetType().Name, e.ObjectName);
    }

    [BackendTheory]
    [MemberData(nameof(BackendData.Backends), MemberType = typeof(BackendData))]
    public void Forward_Backward_and_CreateStepper_after_Dispose_throw(string backend)
    {
        var (plan, inputs) = Make(backend);
        var fwd = plan.Forward(inputs, training: true); // a workspace made before the Dispose
        plan.Dispose();
        AssertDisposed(plan, () => plan.Forward(inputs, training: false));
        AssertDisposed(plan, () => plan.Forward(inputs, training: true));
        AssertDisposed(plan, () => plan.Backward(inputs, fwd, null, null, null));
        AssertDisposed(plan, () => plan.CreateStepper());
        fwd.Dispose();
    }

    [BackendTheory]
    [MemberData(nameof(BackendData.Backends), MemberType = typeof(BackendData))]
    public void A_stepper_made_before_Dispose_throws_from_Step(string backend)
    {
        var (plan, _) = Make(backend);
        using var stepper = plan.CreateStepper(maxStreams: 2);
        var state = stepper.CreateState(2);
        var x = new float[2 * plan.Desc.InputSize];
        var y = new float[2 * plan.Desc.OutputHiddenSize];
        for (int i = 0; i < x.Length; i++) x[i] = 0.1f * (i % 7) - 0.3f;
        stepper.Step(state, x, y); // works before the Dispose
        plan.Dispose();
        AssertDisposed(plan, () => stepper.Step(state, x, y));
    }

    [BackendTheory]
    [MemberData(nameof(BackendData.Backends), MemberType = typeof(BackendData))]
    public void Dispose_twice_is_fine(string backend)
    {
        var (plan, inputs) = Make(backend);
        plan.Forward(inputs, training: false);
        plan.Dispose();
        plan.Dispose();
        Parallel.For(0, 8, _ => plan.Dispose());
        AssertDisposed(plan, () => plan.Forward(inputs, training: false));
    }
}
