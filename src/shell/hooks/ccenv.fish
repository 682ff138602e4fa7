# ccenv hook for fish. Install with this line in ~/.config/fish/config.fish:
#   ccenv hook fish | source
# An unchanged prompt starts no process: the hook compares the directory,
# CCENV_STATE (another tool may change it) and the files ccenv watched on its last run
# against a stamp, with shell builtins only.

# Tells `ccenv doctor` which shell has the hook (a pid, nothing secret).
set -gx CCENV_SHELL "fish:$fish_pid"

function __ccenv_changed
    test "$PWD" = "$__ccenv_pwd"; and test "$CCENV_STATE" = "$__ccenv_state"; or return 0
    for f in $__ccenv_present
        test -e "$f"; and not test "$f" -nt "$__ccenv_stamp"; or return 0
    end
    for f in $__ccenv_absent
        test -e "$f"; and return 0
    end
    return 1
end

function __ccenv_hook --on-event fish_prompt --on-variable PWD
    set -l __ccenv_status $status
    if __ccenv_changed
        # ccenv writes its whole output at once, or nothing when it fails.
        @CCENV@ hook-env fish $fish_pid "$__ccenv_said" | source
        set -g __ccenv_pwd $PWD
        set -g __ccenv_state "$CCENV_STATE"
    end
    return $__ccenv_status
end
