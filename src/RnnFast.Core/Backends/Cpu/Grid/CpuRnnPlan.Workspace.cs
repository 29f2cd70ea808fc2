// CpuRnnPlan's buffers: the training workspace a forward keeps for backward (per layer and direction: activated gates,
// h and c slots, projection inputs, GRU's W_hn h) and the pooled inference scratch (two of each buffer: ping-pong
// between layers and steps), pinned so the kernels read them through pointers.
namespace RnnFast.Backends.Cpu;

internal sealed unsafe partial class CpuRnnPlan
{
    /// <summary>What a training forward keeps for backward; disposing it gives its buffers back to the plan's pool.</summary>
    private sealed class Workspace : RnnWorkspace
    {
        public required BufferPool Pool;
        public required CpuWeights Weights;
        public required int T, N;
        public required AlignedFloats?[] LayerOutputs;  // [l] (T, N, D*H_out) for l < L-1 (the next layer's input)
        public required AlignedFloats[] Gates;          // [l*D+d] (T*N, GP): activated gates
        public required AlignedFloats[] H;              // [l*D+d] (T+1, N, H_out): h slots (see HSlot)
        public required AlignedFloats?[] C;             // [l*D+d] (T+1, N, H): LSTM c slots
        public required AlignedFloats?[] HRaw;          // [l*D+d] (T, N, H): LSTM projection input o*tanh(c)
        public required AlignedFloats?[] HhN;           // [l*D+d] (T, N, H): GRU W_hn h + b_hn
        public required AlignedFloats?[] HH;            // [l*D+d] (N, GP): GRU per-step recurrent product (scratch)

        protected override void Release()
        {
            foreach (var set in new[] { LayerOutputs, Gates, H, C, HRaw, HhN, HH })
            {
                Pool.ReturnAll(set);
                Array.Clear(set);
            }
        }
    }

    /// <summary>Inference scratch, pooled per plan (Forward(training: false) may run on many threads at once).</summary>
    private sealed class InferScratch
    {
        public readonly AlignedFloats[] XW = new AlignedFloats[2], HH = new AlignedFloats[2], H = new AlignedFloats[2], C = new AlignedFloats[2], HRaw = new AlignedFloats[2];
        public readonly AlignedFloats[] Y = new AlignedFloats[2];

        /// <summary>The first <paramref name="size"/> floats of set[i], grown (pinned, 64-byte aligned) when too small.</summary>
        public static FloatBuf Ensure(AlignedFloats[] set, int i, long size)
        {
            var a = set[i];
            if (a == null || a.Length < size)
            {
                a = AlignedFloats.Allocate(size, clear: false);
                set[i] = a;
            }
            return new FloatBuf(a.Buf.Ptr, size);
        }
    }

    private InferScratch RentScratch()
    {
        lock (_scratch)
            if (_scratch.Count > 0) return _scratch.Pop();
        return new InferScratch();
    }

    private void ReturnScratch(InferScratch s)
    {
        lock (_scratch) _scratch.Push(s);
    }
}
