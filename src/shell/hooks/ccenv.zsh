# ccenv hook for zsh. Install with this line at the end of ~/.zshrc:
#   eval "$(ccenv hook zsh)"
# An unchanged prompt starts no process: __ccenv_changed compares the directory,
# CCENV_STATE (another tool may change it) and the files ccenv watched on its last run
# against a stamp, with shell builtins only.

__ccenv_changed() {
  [[ "$PWD" == "${__ccenv_pwd-}" && "${CCENV_STATE-}" == "${__ccenv_state-}" ]] || return 0
  local f
  for f in "${__ccenv_present[@]}"; do
    [[ -e "$f" && ! "$f" -nt "${__ccenv_stamp-}" ]] || return 0
  done
  for f in "${__ccenv_absent[@]}"; do
    [[ -e "$f" ]] && return 0
  done
  return 1
}

_ccenv_hook() {
  local __ccenv_status=$? __ccenv_out
  if __ccenv_changed; then
    # Apply only complete output: an interrupted or failed run changes nothing.
    if __ccenv_out="$(@CCENV@ hook-env zsh "$$" "${__ccenv_said-}")"; then
      eval "$__ccenv_out"
    fi
    typeset -g __ccenv_pwd=$PWD
    typeset -g __ccenv_state=${CCENV_STATE-}
  fi
  return $__ccenv_status
}

# Tells `ccenv doctor` which shell has the hook (a pid, nothing secret).
export CCENV_SHELL="zsh:$$"

typeset -ga __ccenv_present __ccenv_absent precmd_functions chpwd_functions
(( ${precmd_functions[(I)_ccenv_hook]} )) || precmd_functions=(_ccenv_hook $precmd_functions)
(( ${chpwd_functions[(I)_ccenv_hook]} )) || chpwd_functions=(_ccenv_hook $chpwd_functions)
