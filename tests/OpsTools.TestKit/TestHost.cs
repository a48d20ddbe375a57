using System.Collections.ObjectModel;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;
using System.Text;

namespace OpsTools.TestKit;

/// <summary>
/// A PowerShell host that records what a console would show (Out-Default, Write-Host,
/// annotations written to the host) and answers prompts the way a test tells it to.
/// </summary>
public sealed class TestHost : PSHost
{
    private readonly TestHostUI _ui = new();
    private readonly Guid _id = Guid.NewGuid();

    public override CultureInfo CurrentCulture => CultureInfo.InvariantCulture;
    public override CultureInfo CurrentUICulture => CultureInfo.InvariantCulture;
    public override Guid InstanceId => _id;
    public override string Name => "OpsTools.TestHost";
    public override PSHostUserInterface UI => _ui;
    public override Version Version => new(1, 0);

    /// <summary>Everything written to the host, as a console would show it.</summary>
    public string Text => _ui.Text;
    /// <summary>Progress records the host was given.</summary>
    public IReadOnlyList<ProgressRecord> ProgressRecords => _ui.Progress;
    /// <summary>Prompts the host was asked (ShouldContinue / Confirm).</summary>
    public IReadOnlyList<string> Prompts => _ui.Prompts;
    /// <summary>The choice index given to confirmation prompts (0 = Yes, 2 = No in ShouldProcess prompts).</summary>
    public int ChoiceAnswer { get => _ui.ChoiceAnswer; set => _ui.ChoiceAnswer = value; }
    /// <summary>
    /// Answer every confirmation prompt with its "No" choice, wherever the prompt puts it (ShouldProcess: Yes, Yes to All,
    /// No, No to All, Suspend; ShouldContinue: Yes, No, or with Yes to All/No to All), instead of <see cref="ChoiceAnswer"/>.
    /// </summary>
    public bool AnswerNo { get => _ui.AnswerNo; set => _ui.AnswerNo = value; }
    /// <summary>Runs when a confirmation prompt is shown, before it is answered (tests that change things "while the user reads").</summary>
    public Action<string>? OnPrompt { get => _ui.OnPrompt; set => _ui.OnPrompt = value; }
    public void ClearText() => _ui.Clear();

    public override void EnterNestedPrompt() => throw new NotSupportedException();
    public override void ExitNestedPrompt() => throw new NotSupportedException();
    public override void NotifyBeginApplication() { }
    public override void NotifyEndApplication() { }
    public override void SetShouldExit(int exitCode) => ExitCode = exitCode;
    public int? ExitCode { get; private set; }

    private sealed class TestHostUI : PSHostUserInterface
    {
        private readonly StringBuilder _text = new();
        private readonly object _gate = new();
        public readonly List<ProgressRecord> Progress = new();
        public readonly List<string> Prompts = new();
        public int ChoiceAnswer { get; set; }
        public bool AnswerNo { get; set; }
        public Action<string>? OnPrompt { get; set; }
        private readonly TestRawUI _raw = new();

        public string Text { get { lock (_gate) return _text.ToString(); } }
        public void Clear() { lock (_gate) _text.Clear(); }
        // Plain text, as pwsh writes it to a log file or a CI step: colour sequences are dropped.
        private static readonly System.Text.RegularExpressions.Regex Ansi = new("\x1b\\[[0-9;?]*[A-Za-z]", System.Text.RegularExpressions.RegexOptions.Compiled);
        private void Append(string s) { lock (_gate) _text.Append(Ansi.Replace(s, "")); }

        public override PSHostRawUserInterface RawUI => _raw;
        public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions)
        {
            Prompts.Add(caption + ": " + message);
            throw new PSInvalidOperationException("The test host does not answer free-text prompts.");
        }
        public override int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice)
        {
            lock (_gate) Prompts.Add(caption + ": " + message);
            OnPrompt?.Invoke(caption + ": " + message);
            if (AnswerNo)
            {
                for (var i = 0; i < choices.Count; i++)
                    if (choices[i].Label.Replace("&", "").Equals("No", StringComparison.OrdinalIgnoreCase)) return i;
                throw new InvalidOperationException($"The test host was told to answer No, but the prompt '{caption}' offers no No: {string.Join(", ", choices.Select(c => c.Label))}.");
            }
            return ChoiceAnswer;
        }
        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) =>
            throw new PSInvalidOperationException("The test host does not answer credential prompts.");
        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName, PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) =>
            throw new PSInvalidOperationException("The test host does not answer credential prompts.");
        public override string ReadLine() => "";
        public override SecureString ReadLineAsSecureString() => new();
        public override void Write(string value) => Append(value);
        public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) => Append(value);
        public override void WriteLine(string value) => Append(value + "\n");
        public override void WriteDebugLine(string message) => Append("DEBUG: " + message + "\n");
        public override void WriteErrorLine(string value) => Append("ERROR: " + value + "\n");
        public override void WriteVerboseLine(string message) => Append("VERBOSE: " + message + "\n");
        public override void WriteWarningLine(string message) => Append("WARNING: " + message + "\n");
        public override void WriteProgress(long sourceId, ProgressRecord record) { lock (_gate) Progress.Add(record); }
    }

    private sealed class TestRawUI : PSHostRawUserInterface
    {
        public override ConsoleColor BackgroundColor { get; set; } = ConsoleColor.Black;
        public override Size BufferSize { get; set; } = new(200, 3000);
        public override Coordinates CursorPosition { get; set; }
        public override int CursorSize { get; set; }
        public override ConsoleColor ForegroundColor { get; set; } = ConsoleColor.White;
        public override bool KeyAvailable => false;
        public override Size MaxPhysicalWindowSize => new(200, 3000);
        public override Size MaxWindowSize => new(200, 3000);
        public override Coordinates WindowPosition { get; set; }
        public override Size WindowSize { get; set; } = new(200, 50);
        public override string WindowTitle { get; set; } = "";
        public override void FlushInputBuffer() { }
        public override BufferCell[,] GetBufferContents(Rectangle rectangle) => new BufferCell[0, 0];
        public override KeyInfo ReadKey(ReadKeyOptions options) => throw new NotSupportedException();
        public override void ScrollBufferContents(Rectangle source, Coordinates destination, Rectangle clip, BufferCell fill) { }
        public override void SetBufferContents(Coordinates origin, BufferCell[,] contents) { }
        public override void SetBufferContents(Rectangle rectangle, BufferCell fill) { }
    }
}
