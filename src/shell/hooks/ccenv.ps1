# ccenv hook for Windows PowerShell 5.1 and PowerShell 7. Add this line to $PROFILE:
#   Invoke-Expression (& ccenv hook powershell | Out-String)
# An unchanged prompt starts no process: the location and the times of the files ccenv
# watched on its last run are compared in-process (a process start costs ~20 ms on
# Windows). ccenv's output is ASCII, so no console code page can turn it into quotes.

$global:__ccenv_exe = @CCENV@
# Tells `ccenv doctor` which shell has the hook (a pid, nothing secret).
$env:CCENV_SHELL = "powershell:$PID"
if ($null -eq $global:__ccenv_present) { $global:__ccenv_present = @() }
if ($null -eq $global:__ccenv_absent) { $global:__ccenv_absent = @() }
if ($null -eq $global:__ccenv_stamp) { $global:__ccenv_stamp = [long]0 }
if ($null -eq $global:__ccenv_said) { $global:__ccenv_said = '' }

function global:__ccenv_exists([string]$Path) {
    [System.IO.File]::Exists($Path) -or [System.IO.Directory]::Exists($Path)
}

function global:__ccenv_changed {
    if ($PWD.ProviderPath -ne $global:__ccenv_pwd) { return $true }
    if ("$env:CCENV_STATE" -cne "$global:__ccenv_state") { return $true }
    foreach ($f in $global:__ccenv_present) {
        if ([System.IO.Directory]::Exists($f)) {
            $t = [System.IO.Directory]::GetLastWriteTimeUtc($f)
        } elseif ([System.IO.File]::Exists($f)) {
            $t = [System.IO.File]::GetLastWriteTimeUtc($f)
        } else {
            return $true
        }
        if ($t.Ticks -gt $global:__ccenv_stamp) { return $true }
    }
    foreach ($f in $global:__ccenv_absent) {
        if (__ccenv_exists $f) { return $true }
    }
    return $false
}

function global:__ccenv_hook {
    if ($PWD.Provider.Name -ne 'FileSystem') { return }
    if (-not (__ccenv_changed)) { return }
    $encoding = [Console]::OutputEncoding
    try {
        [Console]::OutputEncoding = [System.Text.Encoding]::UTF8
        $out = & $global:__ccenv_exe hook-env powershell $PID $global:__ccenv_said
        # Apply only complete output: a failed run changes nothing.
        if ($LASTEXITCODE -eq 0 -and $null -ne $out) {
            Invoke-Expression (@($out) -join "`n")
        }
    } finally {
        [Console]::OutputEncoding = $encoding
        $global:__ccenv_pwd = $PWD.ProviderPath
        $global:__ccenv_state = "$env:CCENV_STATE"
    }
}

# Wraps whatever `prompt` is now, keeping it and $LASTEXITCODE.
function global:__ccenv_wrap_prompt {
    $global:__ccenv_prompt = $function:prompt
    function global:prompt {
        $exitCode = $global:LASTEXITCODE
        __ccenv_hook
        $global:LASTEXITCODE = $exitCode
        & $global:__ccenv_prompt
    }
}

if (-not $global:__ccenv_installed) {
    $global:__ccenv_installed = $true
    __ccenv_wrap_prompt
    # A prompt tool loaded after this line (oh-my-posh, starship) replaces `prompt`
    # and with it the hook. Whenever PowerShell is idle, a replaced prompt is wrapped
    # again (a string test; no process starts).
    $null = Register-EngineEvent -SourceIdentifier PowerShell.OnIdle -Action {
        if ("$function:prompt" -notmatch '__ccenv_hook') { __ccenv_wrap_prompt }
    }
    # PowerShell 7 also reports every location change, so `cd repo; claude` on one
    # line already sees the provider.
    if ($PSVersionTable.PSVersion.Major -ge 7) {
        $ExecutionContext.InvokeCommand.LocationChangedAction = [Delegate]::Combine(
            $ExecutionContext.InvokeCommand.LocationChangedAction,
            [EventHandler[System.Management.Automation.LocationChangedEventArgs]] { __ccenv_hook })
    }
}
