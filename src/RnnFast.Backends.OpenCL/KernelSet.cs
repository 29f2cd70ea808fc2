// The kernels of one device: the program built from native/opencl/*.cl (see KernelProgram) and one kernel object per
// kernel function. Kernel objects hold their arguments, so launches on them happen under the device's Gate.
using RnnFast.Bindings.OpenCL;

namespace RnnFast.Backends.OpenCL;

/// <summary>The compiled program of one device and one kernel object per kernel function.</summary>
internal sealed class KernelSet
{
    public KernelSet(OpenCLDevice device)
    {
        var built = KernelProgram.Build(device.Cl, device.Context, device.Entry, device.Tiles.BuildOptions, KernelProgram.CacheDirectory());
        Program = built.Program;
        Origin = built.Origin;
        BuildTime = built.Elapsed;
        CLKernel Make(string name) => device.Cl.CreateKernel(Program, name);
        Sgemm = Make("sgemm");
        SgemmVec = Make("sgemm_vec");
        RnnStepFwd = Make("rnn_step_fwd");
        LstmStepFwd = Make("lstm_step_fwd");
        LstmProjFinish = Make("lstm_proj_finish");
        GruStepFwd = Make("gru_step_fwd");
        RnnStepBwd = Make("rnn_step_bwd");
        LstmProjBwdTotal = Make("lstm_proj_bwd_total");
        LstmStepBwd = Make("lstm_step_bwd");
        GruStepBwd = Make("gru_step_bwd");
        ColumnSums = Make("column_sums");
        LstmPeepStepFwd = Make("lstm_peep_step_fwd");
        LstmPeepStepBwd = Make("lstm_peep_step_bwd");
        LstmPeepGrad = Make("lstm_peep_grad");
    }

    public CLProgram Program { get; }

    /// <summary>Whether the program came from source or from the binary cache.</summary>
    public string Origin { get; }

    public TimeSpan BuildTime { get; }

    public CLKernel Sgemm { get; }
    public CLKernel SgemmVec { get; }
    public CLKernel RnnStepFwd { get; }
    public CLKernel LstmStepFwd { get; }
    public CLKernel LstmProjFinish { get; }
    public CLKernel GruStepFwd { get; }
    public CLKernel RnnStepBwd { get; }
    public CLKernel LstmProjBwdTotal { get; }
    public CLKernel LstmStepBwd { get; }
    public CLKernel GruStepBwd { get; }
    public CLKernel ColumnSums { get; }
    public CLKernel LstmPeepStepFwd { get; }
    public CLKernel LstmPeepStepBwd { get; }
    public CLKernel LstmPeepGrad { get; }
}
