# completions/mlc.bash: bash completion for mlc (installed as
# share/bash-completion/completions/mlc). Completes the shared options, the
# commands and their actions (creds add, webhook serve...), each command's long
# options, file names after options that take a FILE, and profile names after
# --profile.
#
# Commands, actions and options come from the installed mlc itself (`mlc --help`,
# `mlc COMMAND --help`: a few milliseconds, nothing read but the binary), so they
# never drift from the program. Profile names do NOT come from mlc (it has no
# command that lists them without loading a profile); they are read from the
# configuration file (--config on the line, else $MLC_CONFIG, else
# $XDG_CONFIG_HOME/mlc/mlc.yaml or ~/.config/mlc/mlc.yaml) by a minimal YAML
# reading: the keys one level under a block-style `profiles:` at the start of a
# line. A flow-style `profiles: {a: ..}` or anchors/aliases there are not
# understood (no names are offered, nothing breaks).
# Not here: anything that runs a command or touches the state or the vault.

# _mlc_profiles FILE: the profile names of a configuration file, one a line.
_mlc_profiles() {
    [ -r "$1" ] || return 0
    awk '
        /^profiles:[ \t]*(#.*)?$/ { inside = 1; ind = -1; next }
        inside && /^[^ \t#]/ { inside = 0 }
        inside && /^[ ]+[^ #][^:]*:/ {
            match($0, /^ +/); n = RLENGTH
            if (ind < 0) ind = n
            if (n == ind) { k = $0; sub(/^ +/, "", k); sub(/:.*/, "", k); gsub(/["\047]/, "", k); print k }
        }' "$1" 2>/dev/null
}

_mlc() {
    local cur prev i w cmd="" action="" config="" help
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=""
    [ "$COMP_CWORD" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD - 1]}
    local mlc=${COMP_WORDS[0]}
    command -v "$mlc" >/dev/null 2>&1 || mlc=mlc

    # what is on the line so far: the command, its action, --config
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        case $w in
            --config|--profile|--log-format) ((i++)); [ "$w" = --config ] && config=${COMP_WORDS[i]} ;;
            --config=*) config=${w#--config=} ;;
            -*) ;;
            *) if [ -z "$cmd" ]; then cmd=$w; elif [ -z "$action" ]; then action=$w; fi ;;
        esac
    done

    case $prev in
        --config) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --log-format) COMPREPLY=($(compgen -W "text json" -- "$cur")); return ;;
        --profile)
            local file=${config:-${MLC_CONFIG:-${XDG_CONFIG_HOME:-$HOME/.config}/mlc/mlc.yaml}}
            COMPREPLY=($(compgen -W "$(_mlc_profiles "$file")" -- "$cur")); return ;;
    esac

    if [ -z "$cmd" ]; then
        help=$("$mlc" --help 2>&1)
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "$(printf '%s\n' "$help" | grep -o -- '--[a-z][a-z0-9-]*' | sort -u) -q -v" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$(printf '%s\n' "$help" | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z0-9-]*\) .*/\1/p') help" -- "$cur"))
        fi
        return
    fi
    [ "$cmd" = help ] && { COMPREPLY=($(compgen -W "$("$mlc" --help 2>&1 | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z0-9-]*\) .*/\1/p')" -- "$cur")); return; }

    help=$("$mlc" "$cmd" --help 2>&1)
    # an option that takes a FILE (or DIR) argument: file names
    if [[ $prev == -* ]] && printf '%s\n' "$help" | grep -Eq -- "$prev[ =](FILE|DIR|PATH)"; then
        COMPREPLY=($(compgen -f -- "$cur")); return
    fi
    # actions: `mlc CMD ACTION ...` lines of the usage
    local actions
    actions=$(printf '%s\n' "$help" | sed -n "s/^\(usage:\)\{0,1\} *mlc $cmd \([a-z][a-z0-9-]*\).*/\2/p" | sort -u)
    if [ -n "$actions" ] && [ -z "$action" ] && [[ $cur != -* ]]; then
        COMPREPLY=($(compgen -W "$actions" -- "$cur")); return
    fi
    COMPREPLY=($(compgen -W "$(printf '%s\n' "$help" | grep -o -- '--[a-z][a-z0-9-]*' | sort -u) --config --profile --log-format" -- "$cur"))
}
complete -o default -F _mlc mlc
