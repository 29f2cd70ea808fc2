// The state of one streaming sequence: h (and c for LSTM) of every layer, kept by the model's backend (host arrays
// on the CPU backends, device memory on GPU ones), plus this sequence's own stepper and output buffers, so a step
// allocates nothing on the cpu backend. Each thread or sequence owns its own state; the model it came from is shared.
namespace RnnFast.Models;

/// <summary>A streaming sequence's recurrent state. Create with <see cref="RnnModel.NewState"/>.</summary>
public sealed class RnnState : IDisposable
{
    internal RnnState(RnnModel owner, RnnStepper stepper, int outputSize)
    {
        Owner = owner;
        Stepper = stepper;
        Stream = stepper.CreateState(1);
        Y = new float[stepper.Desc.OutputHiddenSize];
        Output = new float[outputSize];
        Scratch = new float[stepper.StateSize];
        X = new float[stepper.Desc.InputSize];
    }

    internal RnnModel Owner { get; }
    internal RnnStepper Stepper { get; }
    internal RnnStepState Stream { get; }
    internal float[] Y { get; }          // (H_out): the top layer's output of the last step
    internal float[] Output { get; }     // (O): the head's output of the last step
    internal float[] X { get; }          // (I): the step's input after scaling (feature models)
    private float[] Scratch { get; }

    /// <summary>How many tokens this state has consumed since it was created or reset.</summary>
    public int Steps { get; internal set; }

    /// <summary>The backend that runs this state's steps.</summary>
    public string ExecutedBy => Stepper.ExecutedBy;

    /// <summary>The top layer's hidden vector after the last step (H_out).</summary>
    public ReadOnlySpan<float> Hidden => Y;

    /// <summary>Number of floats <see cref="CopyTo"/> writes: h of every layer, then c of every layer (LSTM).</summary>
    public int Size => Stream.StateSize;

    /// <summary>Back to the initial (zero) state.</summary>
    public void Reset()
    {
        Stream.Reset();
        Array.Clear(Y);
        Array.Clear(Output);
        Steps = 0;
    }

    /// <summary>Writes h and c of every layer into <paramref name="destination"/> (length <see cref="Size"/>), to save the state.</summary>
    public void CopyTo(Span<float> destination)
    {
        if (destination.Length != Size) throw new ArgumentException($"destination: expected {Size} floats, found {destination.Length}", nameof(destination));
        Stream.CopyStreamTo(0, destination);
    }

    /// <summary>Restores a state saved by <see cref="CopyTo"/>.</summary>
    public void CopyFrom(ReadOnlySpan<float> source)
    {
        if (source.Length != Size) throw new ArgumentException($"source: expected {Size} floats, found {source.Length}", nameof(source));
        Stream.CopyStreamFrom(0, source);
        int L = Stepper.Desc.NumLayers, Ho = Stepper.Desc.OutputHiddenSize;
        source.Slice((L - 1) * Ho, Ho).CopyTo(Y); // the top layer's h is what Hidden reports
    }

    /// <summary>An independent copy (e.g. to branch a generation).</summary>
    public RnnState Clone()
    {
        var s = Owner.NewState();
        Stream.CopyStreamTo(0, Scratch);
        s.CopyFrom(Scratch);
        Output.CopyTo(s.Output);
        s.Steps = Steps;
        return s;
    }

    /// <summary>Copies this state into stream <paramref name="stream"/> of a batch state (multi-stream step).</summary>
    internal void GatherInto(RnnStepState batch, int stream)
    {
        if (Stream is HostRnnStepState mine && batch is HostRnnStepState many) many.CopyStream(mine, 0, stream);
        else
        {
            Stream.CopyStreamTo(0, Scratch);
            batch.CopyStreamFrom(stream, Scratch);
        }
    }

    /// <summary>Takes stream <paramref name="stream"/> of a batch state back into this state.</summary>
    internal void ScatterFrom(RnnStepState batch, int stream)
    {
        if (Stream is HostRnnStepState mine && batch is HostRnnStepState many) mine.CopyStream(many, stream, 0);
        else
        {
            batch.CopyStreamTo(stream, Scratch);
            Stream.CopyStreamFrom(0, Scratch);
        }
    }

    /// <summary>Frees the state's backend memory (device memory on a GPU backend).</summary>
    public void Dispose()
    {
        Stream.Dispose();
        Stepper.Dispose();
    }
}
