// `rnnfast train` under an MPI launcher (mpirun -np K rnnfast train ...): the job is detected from Open MPI's
// environment (OMPI_COMM_WORLD_SIZE/RANK) unless --distributed off; one rank (or none) trains as a single process.
// Rank 0 alone prints; a rank that fails prints its error (prefixed with its rank when not 0) and ends the whole job
// with MPI_Abort, so no other rank waits forever in a collective.
using RnnFast.Distributed;
using RnnFast.Training;

namespace RnnFast.Cli;

internal static class DistributedTrain
{
    /// <summary>
    /// The world communicator when this process is one of 2+ ranks started by mpirun and <paramref name="mode"/> is
    /// "auto"; null for "off", outside a job, or in a job of one rank. Anything else in <paramref name="mode"/> is refused.
    /// </summary>
    public static MpiComm? Start(string? mode, string task)
    {
        string m = mode?.Trim().ToLowerInvariant() ?? "";
        if (m is not ("auto" or "off")) throw new ArgumentException($"--distributed: must be auto or off, got '{mode}'");
        if (m == "off") return null;
        var job = MpiComm.FromLauncher();
        if (job is not { Size: > 1 }) return null;
        if (task is not ("lm" or "classify"))
            throw new ArgumentException($"--distributed: data-parallel training is for --task lm and rnnfast classify; this is one of {job.Value.Size} MPI ranks (use --distributed off to train each rank on its own)");
        return MpiComm.Initialize();
    }

    /// <summary>
    /// Runs <paramref name="train"/> (given the options with <see cref="TrainOptions.DataParallel"/> set and the writer for
    /// this rank: the console on rank 0, nothing elsewhere); any failure is reported and ends every rank (MPI_Abort).
    /// </summary>
    public static int Run(MpiComm world, int checkEvery, TrainOptions options, TextWriter output, TextWriter error, Func<TrainOptions, TextWriter, int> train,
        OptionNames? names = null)
    {
        int code;
        try
        {
            var dp = new DataParallel(world, checkEvery);
            code = train(options with { DataParallel = dp }, world.Rank == 0 ? output : TextWriter.Null);
        }
        catch (Exception e)
        {
            bool user = CliErrors.IsUserError(e) || e is TrainingDivergedException or MpiException;
            string where = world.Rank == 0 ? "" : $"rank {world.Rank} of {world.Size}: ";
            error.WriteLine($"error: {where}{(names ?? OptionNames.Train).Message(e)}");
            if (!user) error.WriteLine(e.ToString());
            error.Flush();
            output.Flush();
            world.Abort(user ? CliErrors.BadInput : 1); // does not return: the other ranks may be waiting in a collective
            return 1;
        }
        output.Flush();
        world.Dispose(); // MPI_Finalize: every rank reaches it after the last collective
        return code;
    }
}
