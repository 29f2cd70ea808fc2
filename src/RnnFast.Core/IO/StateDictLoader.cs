// Reading PyTorch state_dict tensors out of a safetensors file: one tensor as a Tensor, or a whole RNN stack's
// parameters by their PyTorch names (with a prefix such as "lstm."), with errors that name the file, the tensor
// and the shape expected vs found.
namespace RnnFast.IO;

/// <summary>Reads PyTorch state_dict tensors from safetensors files into tensors and RNN parameters.</summary>
public static class StateDictLoader
{
    /// <summary>The tensor <paramref name="name"/> as a host float32 tensor (F16/BF16/F64 converted).</summary>
    public static Tensor ReadTensor(this SafeTensorsFile file, string name)
    {
        ArgumentNullException.ThrowIfNull(file);
        var info = file.GetInfo(name);
        var values = file.ReadFloat32(name);
        try
        {
            return Tensor.FromArray(values, info.Shape);
        }
        catch (ArgumentException e)
        {
            // A shape the header allows but a tensor cannot take (a dimension past one array beside a 0, say).
            throw new SafeTensorsFormatException(file.FilePath, $"tensor {SafeTensorsFile.Quote(name)}: {e.Message.Replace(" (Parameter 'shape')", "", StringComparison.Ordinal)}", e);
        }
    }

    /// <summary>The parameters of <paramref name="desc"/> read from <paramref name="file"/> under PyTorch's names.</summary>
    public static RnnParameters LoadRnnParameters(this SafeTensorsFile file, RnnDesc desc, string prefix = "")
    {
        ArgumentNullException.ThrowIfNull(file);
        return RnnParameters.FromNamed(desc, name => file.Contains(name) ? file.ReadTensor(name) : null, prefix, Path.GetFileName(file.FilePath));
    }

    /// <summary>Opens <paramref name="path"/> and reads the parameters of <paramref name="desc"/>.</summary>
    public static RnnParameters LoadRnnParameters(string path, RnnDesc desc, string prefix = "")
    {
        using var file = SafeTensorsFile.Open(path);
        return file.LoadRnnParameters(desc, prefix);
    }
}
