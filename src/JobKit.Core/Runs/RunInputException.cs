namespace JobKit.Core.Runs;

/// <summary>The request cannot be carried out as given (bad names, missing source, a name already taken); nothing was created.</summary>
public sealed class RunInputException : Exception
{
    public RunInputException(string message)
        : base(message)
    {
    }

    public RunInputException()
    {
    }

    public RunInputException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
