// Which parameters a sequence trainer (classifier, multi-label classifier, tagger) saves and scores at the end of a run:
// the last step's, or those at the best held-out loss seen at the periodic checks (TrainOptions.EvalEvery).
namespace RnnFast.Training;

/// <summary>Which parameters a sequence trainer keeps at the end of a run (<see cref="TrainOptions.Keep"/>).</summary>
public enum KeepModel
{
    /// <summary>The parameters after the last step.</summary>
    Last = 0,
    /// <summary>The parameters at the lowest held-out loss among the periodic checks and the end of the run.</summary>
    Best = 1,
}
