// Where a train/classify flag's value comes from when the user did not give it: on --resume the checkpoint's recipe,
// for the architecture flags also the --init-from model's; otherwise the flag's own default. One definition for both
// commands (the trainers then refuse a given flag that differs from the checkpoint's or the model's).
using System.CommandLine;
using RnnFast.Training;

namespace RnnFast.Cli;

internal sealed class RecipeDefaults
{
    private readonly ParseResult _r;

    private RecipeDefaults(ParseResult r, string? resumePath, TrainOptions? saved, TrainOptions? architecture)
    {
        _r = r;
        ResumePath = resumePath;
        Saved = saved;
        Architecture = architecture;
    }

    /// <summary>The --resume checkpoint, or null.</summary>
    public string? ResumePath { get; }

    /// <summary>The checkpoint's recipe (--resume), or null.</summary>
    public TrainOptions? Saved { get; }

    /// <summary>The architecture the flags not given default to: the checkpoint's (--resume) or the model's (--init-from), or null.</summary>
    public TrainOptions? Architecture { get; }

    /// <summary>Reads the --resume checkpoint's recipe (a regular file, or a one-line error) and the --init-from model's architecture.</summary>
    public static RecipeDefaults Read(ParseResult r, Option<string?> resume, SteeringOptions steering)
    {
        string? resumePath = r.GetValue(resume);
        TrainOptions? saved = null;
        if (resumePath != null)
        {
            InputFiles.RequireRegular("--resume", resumePath);
            saved = TrainOptions.FromCheckpoint(resumePath);
        }
        return new RecipeDefaults(r, resumePath, saved, saved ?? steering.ModelArchitecture(r));
    }

    /// <summary>The flag's value: as given, else the checkpoint's (--resume), else its default.</summary>
    public T Given<T>(Option<T> option, Func<TrainOptions, T> fromCheckpoint) => Pick(Saved, option, fromCheckpoint);

    /// <summary>An architecture flag's value: as given, else the checkpoint's or the --init-from model's, else its default.</summary>
    public T Arch<T>(Option<T> option, Func<TrainOptions, T> fromModel) => Pick(Architecture, option, fromModel);

    /// <summary>True when the flag was given on the command line (not its default).</summary>
    public bool IsGiven(Option option) => _r.GetResult(option) is { Implicit: false };

    private T Pick<T>(TrainOptions? source, Option<T> option, Func<TrainOptions, T> from) =>
        source != null && !IsGiven(option) ? from(source) : _r.GetValue(option)!;
}
