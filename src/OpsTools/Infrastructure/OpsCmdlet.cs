using System.Globalization;
using System.Collections.Concurrent;
using System.Management.Automation;

namespace OpsTools.Commands.Infrastructure;

/// <summary>
/// Base of every OpsTools cmdlet. Work runs asynchronously off the pipeline thread, while
/// everything that talks to PowerShell (output, errors, verbose, progress, ShouldProcess prompts)
/// is pumped back onto the pipeline thread, the only thread PowerShell allows it on.
/// Ctrl+C (<see cref="StopProcessing"/>) cancels <see cref="CancellationToken"/>, and every
/// network call in the engine honours it.
/// </summary>
public abstract class OpsCmdlet : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private BlockingCollection<Action>? _pump;
    private int _pipelineThread;
    private bool _disposed;

    /// <summary>Cancelled when the user presses Ctrl+C or the pipeline is stopped.</summary>
    protected CancellationToken CancellationToken => _stop.Token;

    protected virtual Task BeginProcessingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    protected virtual Task ProcessRecordAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    protected virtual Task EndProcessingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    protected sealed override void BeginProcessing() => Pump(BeginProcessingAsync);
    protected sealed override void ProcessRecord() => Pump(ProcessRecordAsync);
    protected sealed override void EndProcessing()
    {
        Pump(EndProcessingAsync);
        // -FailOn: after everything was written, end the script (not just the statement) when the results reach the level.
        if (FailOnLevel == FailLevel.None) return;
        var (activity, errorIdStem, target) = FailOnSubject;
        if (Tally.Failure(FailOnLevel, activity, errorIdStem, target) is { } failure) throw failure;
    }

    /// <summary>What -FailOn's error names: the activity for the message, the words of its ErrorId, the target. Default: the command.</summary>
    protected virtual (string Activity, string ErrorIdStem, object? Target) FailOnSubject =>
        (MyInvocation.MyCommand.Name, MyInvocation.MyCommand.Name, null);

    /// <summary>
    /// The level of -FailOn, for commands that declare it (one line: <c>[Parameter] public FailLevel FailOn { get => FailOnLevel; set => FailOnLevel = value; }</c>).
    /// The rule itself is <see cref="FailOnTally"/>'s.
    /// </summary>
    protected FailLevel FailOnLevel { get; set; }

    /// <summary>What -FailOn judges: every check result written (see <see cref="TallyOutput"/>) and every error written.</summary>
    protected FailOnTally Tally { get; } = new();

    /// <summary>False for commands that judge their input rather than their output (Export-OpsReport).</summary>
    protected virtual bool TallyOutput => true;

    protected override void StopProcessing()
    {
        try { _stop.Cancel(); } catch (ObjectDisposedException) { }
    }

    /// <summary>
    /// Runs <paramref name="work"/> on the thread pool and executes what it posts on this
    /// (the pipeline) thread until it finishes. Exceptions surface here, on the pipeline thread.
    /// </summary>
    private void Pump(Func<CancellationToken, Task> work)
    {
        _pipelineThread = Environment.CurrentManagedThreadId;
        using var pump = new BlockingCollection<Action>();
        _pump = pump;
        Task? task = null;
        try
        {
            task = Task.Run(() =>
            {
                // The work's messages, thresholds and reports go to logs, CI and other tools: numbers and dates in them
                // are culture-invariant ("0.5 s", never "0,5 s"), in one place. The culture flows with the async work
                // only; the host's console views keep the user's culture.
                CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
                return work(_stop.Token);
            });
            task.ContinueWith(_ => { try { pump.CompleteAdding(); } catch (ObjectDisposedException) { } }, TaskScheduler.Default);
            foreach (var action in pump.GetConsumingEnumerable())
                action();
        }
        catch
        {
            // A posted action failed (pipeline stopped, terminating error): stop the work, and give it
            // the time to clean up (temp files, scratch databases, child processes) before the
            // pipeline moves on or the process exits.
            StopProcessing();
            try { task?.Wait(TimeSpan.FromSeconds(30)); }
            catch (AggregateException) { /* its failure is not the news: the original exception is */ }
            throw;
        }
        finally
        {
            _pump = null;
        }
        try
        {
            task!.GetAwaiter().GetResult();
        }
        catch (TerminatingErrorException terminating)
        {
            ThrowTerminatingError(terminating.Record);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
    }

    private bool OnPipelineThread => Environment.CurrentManagedThreadId == _pipelineThread;

    /// <summary>Runs an action on the pipeline thread (directly when already there).</summary>
    protected void Post(Action action)
    {
        if (OnPipelineThread) { action(); return; }
        var pump = _pump;
        if (pump is null) return; // the pipeline step has ended: nothing may be written any more
        try { pump.Add(action); }
        catch (InvalidOperationException) { } // completed or disposed (ObjectDisposedException derives from it)
    }

    /// <summary>Runs a function on the pipeline thread and returns its result to async code.</summary>
    protected Task<T> InvokeOnPipelineAsync<T>(Func<T> func)
    {
        if (OnPipelineThread) return Task.FromResult(func());
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var registration = _stop.Token.Register(() => done.TrySetCanceled());
        done.Task.ContinueWith(_ => registration.Dispose(), TaskScheduler.Default);
        Post(() =>
        {
            try { done.TrySetResult(func()); }
            catch (PipelineStoppedException e) { done.TrySetException(e); throw; } // the pipeline is going away: let it
            catch (Exception e) { done.TrySetException(e); } // the async caller decides (catch it, or let it end the command)
        });
        return done.Task;
    }

    /// <summary>
    /// Writes a stream of items as they arrive (a log of any size), waiting for the pipeline every <paramref name="batch"/>
    /// items, so that a fast source and a slow consumer never pile items up here.
    /// </summary>
    protected async Task OutputStreamAsync<T>(IAsyncEnumerable<T> items, Func<T, object?> shape, CancellationToken ct, int batch = 256)
    {
        var written = 0;
        await foreach (var item in items.WithCancellation(ct).ConfigureAwait(false))
        {
            Output(shape(item));
            if (++written % batch == 0) await InvokeOnPipelineAsync(() => true).ConfigureAwait(false);
        }
    }

    /// <summary>Writes an object to the pipeline, from any thread.</summary>
    protected void Output(object? value, bool enumerateCollection = false)
    {
        if (TallyOutput) Tally.Add(value);
        Post(() => WriteObject(value, enumerateCollection));
    }

    /// <summary>Writes a non-terminating error, from any thread.</summary>
    protected void Error(ErrorRecord record)
    {
        Tally.AddError();
        Post(() => WriteError(record));
    }

    /// <summary>Writes a verbose message, from any thread.</summary>
    protected void Verbose(string message) => Post(() => WriteVerbose(message));

    /// <summary>Writes a warning, from any thread.</summary>
    protected void Warning(string message) => Post(() => WriteWarning(message));

    /// <summary>Writes a progress record, from any thread.</summary>
    protected void Progress(ProgressRecord record) => Post(() => WriteProgress(record));

    // ---- The confirmation rule: one place for every changing command ------------------------------------------
    //
    // As PowerShell's own cmdlets (and the documented pattern for -Force on ConfirmImpact High commands):
    //  1. ShouldProcess decides first, so -WhatIf, $WhatIfPreference, -Confirm and $ConfirmPreference against the
    //     command's ConfirmImpact all count. -WhatIf/$WhatIfPreference always win: "What if: ..." and nothing runs.
    //  2. -Force means "$ConfirmPreference = 'None'" for this command unless -Confirm was given: the ConfirmImpact
    //     prompt is not shown (-WhatIf still only reports, and an explicit -Confirm still asks).
    //  3. The extra question for data or availability loss (ShouldContinue: restore over a database, VACUUM FULL,
    //     scale to zero ...) comes only after ShouldProcess said yes, and -Force alone skips it.

    /// <summary>What <see cref="ConfirmOutcomeAsync"/> decided.</summary>
    protected enum Confirmation
    {
        /// <summary>Go ahead.</summary>
        Yes,
        /// <summary>-WhatIf or $WhatIfPreference: "What if: ..." was written; change nothing.</summary>
        WhatIf,
        /// <summary>The ShouldProcess prompt (-Confirm or ConfirmImpact) was answered No.</summary>
        No,
        /// <summary>The extra question (<c>dangerQuestion</c>) was answered No.</summary>
        DangerNo,
    }

    private bool _yesToAll, _noToAll;

    /// <summary>
    /// The confirmation rule (see above) for one change of <paramref name="target"/>: true to go ahead.
    /// <paramref name="dangerQuestion"/> is the extra "are you sure" for data or availability loss (null: none);
    /// <paramref name="force"/> is the command's -Force; <paramref name="offerYesToAll"/> adds "Yes to All"/"No to All"
    /// to that question (for commands that ask it once per item of a list).
    /// </summary>
    protected async Task<bool> ConfirmAsync(string target, string action, string? dangerQuestion = null, string? dangerCaption = null,
        bool force = false, bool offerYesToAll = false) =>
        await ConfirmOutcomeAsync(target, action, dangerQuestion, dangerCaption, force, offerYesToAll).ConfigureAwait(false) == Confirmation.Yes;

    /// <summary><see cref="ConfirmAsync"/>, telling why not (a dry run reports differently from a refusal).</summary>
    protected Task<Confirmation> ConfirmOutcomeAsync(string target, string action, string? dangerQuestion = null, string? dangerCaption = null,
        bool force = false, bool offerYesToAll = false) =>
        InvokeOnPipelineAsync(() =>
        {
            if (!ShouldProcessStep(target, action, force, out var whatIf))
                return whatIf ? Confirmation.WhatIf : Confirmation.No;
            if (dangerQuestion is null || force) return Confirmation.Yes;
            var caption = dangerCaption ?? action;
            var yes = offerYesToAll
                ? ShouldContinue(dangerQuestion, caption, ref _yesToAll, ref _noToAll)
                : ShouldContinue(dangerQuestion, caption);
            return yes ? Confirmation.Yes : Confirmation.DangerNo;
        });

    /// <summary>Step 1 and 2 of the rule, on the pipeline thread.</summary>
    private bool ShouldProcessStep(string target, string action, bool force, out bool whatIf)
    {
        whatIf = IsWhatIf();
        if (force && !ConfirmGiven() && !whatIf)
        {
            // What ShouldProcess does with $ConfirmPreference 'None': no prompt; the verbose line it writes.
            WriteVerbose($"Performing the operation \"{action}\" on target \"{target}\".");
            return true;
        }
        // The engine's own texts and prompt; under -WhatIf/$WhatIfPreference it writes "What if: ..." and returns false.
        return ShouldProcess(target, action);
    }

    /// <summary>True with -Confirm (not -Confirm:$false): the user asked to be asked, -Force or not.</summary>
    private bool ConfirmGiven() =>
        MyInvocation.BoundParameters.TryGetValue("Confirm", out var c) && c is SwitchParameter { IsPresent: true };

    /// <summary>
    /// Is this a dry run, decided as the engine's ShouldProcess decides it: a bound -WhatIf (-WhatIf:$false included)
    /// wins, else $WhatIfPreference. Pipeline thread only.
    /// </summary>
    private bool IsWhatIf() =>
        MyInvocation.BoundParameters.TryGetValue("WhatIf", out var w)
            ? w is SwitchParameter { IsPresent: true } || (w is bool b && b)
            : LanguagePrimitives.IsTrue(GetVariableValue("WhatIfPreference"));

    /// <summary>
    /// True when this run is a dry run (-WhatIf or $WhatIfPreference, as ShouldProcess decides it): for what a command
    /// does besides the change itself, such as waiting for a rollout that a dry run never started.
    /// </summary>
    protected Task<bool> IsWhatIfAsync() => InvokeOnPipelineAsync(IsWhatIf);

    /// <summary>The rule without an extra question and without -Force: <see cref="ConfirmAsync"/>(target, action).</summary>
    protected Task<bool> ShouldProcessAsync(string target, string action) => ConfirmAsync(target, action);

    /// <summary>
    /// Only the extra question of the rule (step 3), for a command that asks it separately after <see cref="ConfirmAsync"/>
    /// said yes: skipped by <paramref name="force"/>.
    /// </summary>
    protected Task<bool> ShouldContinueAsync(string query, string caption, bool force) =>
        force ? Task.FromResult(true) : InvokeOnPipelineAsync(() => ShouldContinue(query, caption));

    /// <summary>Turns an exception into an ErrorRecord with an ErrorId, a category and the target.</summary>
    protected static ErrorRecord ToErrorRecord(Exception exception, string fallbackErrorId, ErrorCategory fallbackCategory, object? target)
    {
        if (exception is OpsToolsException ops)
        {
            var record = new ErrorRecord(ops, ops.ErrorId, MapCategory(ops.Kind), ops.Target ?? target);
            return record;
        }
        return new ErrorRecord(exception, fallbackErrorId, fallbackCategory, target);
    }

    /// <summary>Stops the command with an ErrorRecord, for invocations that cannot work at all.</summary>
    protected void Fail(Exception exception, string errorId, ErrorCategory category, object? target)
    {
        var record = ToErrorRecord(exception, errorId, category, target);
        if (OnPipelineThread) ThrowTerminatingError(record);
        // From async code: throw; Pump rethrows it on the pipeline thread via the task.
        throw new TerminatingErrorException(record);
    }

    internal static ErrorCategory MapCategory(OpsErrorKind kind) => kind switch
    {
        OpsErrorKind.InvalidArgument => ErrorCategory.InvalidArgument,
        OpsErrorKind.InvalidData => ErrorCategory.InvalidData,
        OpsErrorKind.NotFound => ErrorCategory.ObjectNotFound,
        OpsErrorKind.ConnectionError => ErrorCategory.ConnectionError,
        OpsErrorKind.Timeout => ErrorCategory.OperationTimeout,
        OpsErrorKind.PermissionDenied => ErrorCategory.PermissionDenied,
        OpsErrorKind.NotSupported => ErrorCategory.NotImplemented,
        _ => ErrorCategory.NotSpecified,
    };

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Dispose(true);
        _stop.Dispose();
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing) { }
}

/// <summary>Carries an ErrorRecord from async code to the pipeline thread, where it becomes terminating.</summary>
internal sealed class TerminatingErrorException : Exception
{
    public TerminatingErrorException(ErrorRecord record) : base(record.Exception.Message, record.Exception) => Record = record;
    public ErrorRecord Record { get; }
}
