# bash completion for laredo (the laredo-server CLI). Installed by meson into
# share/bash-completion/completions/laredo.

_laredo_tables() {
    # Table names from the server, when it answers (quietly nothing otherwise).
    laredo --timeout 2 tables 2>/dev/null | awk 'NR > 1 { print $1 }'
}

_laredo() {
    local cur prev words cword
    _init_completion 2>/dev/null || {
        COMPREPLY=()
        cur="${COMP_WORDS[COMP_CWORD]}"
        prev="${COMP_WORDS[COMP_CWORD-1]}"
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
    }
    local globals="--server --token --token-file --output --timeout --cacert --help --version"
    local commands="status ready pipelines tables schema source pause resume reload reset-source
                    snapshot dead-letters query watch drain config version"

    case "$prev" in
        --output|-o) COMPREPLY=($(compgen -W "table json" -- "$cur")); return ;;
        --token-file|--cacert) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --server|-s|--token|--timeout|--limit|--cursor|--key|-k|--label|--keep|--interval|--for|--index|--pipeline|--source|--set|--conf-dir)
            return ;;
    esac

    # The command (and its subcommand) typed so far.
    local command="" sub="" i
    for ((i = 1; i < cword; i++)); do
        case "${words[i]}" in
            -*) ;;
            *) if [[ -z "$command" ]]; then command="${words[i]}";
               elif [[ -z "$sub" ]]; then sub="${words[i]}"; fi ;;
        esac
    done

    if [[ -z "$command" ]]; then
        COMPREPLY=($(compgen -W "$commands $globals" -- "$cur"))
        return
    fi
    local options="--help"
    case "$command" in
        snapshot)
            [[ -z "$sub" ]] && { COMPREPLY=($(compgen -W "create list describe delete prune" -- "$cur")); return; }
            options="--label --keep --help" ;;
        dead-letters)
            [[ -z "$sub" ]] && { COMPREPLY=($(compgen -W "list replay purge" -- "$cur")); return; }
            options="--limit --help" ;;
        query)
            [[ -z "$sub" ]] && { COMPREPLY=($(compgen -W "get lookup list count" -- "$cur")); return; }
            options="--key --source --pipeline --index --limit --cursor --all --help"
            [[ "$cur" != -* ]] && { COMPREPLY=($(compgen -W "$(_laredo_tables)" -- "$cur")); return; } ;;
        config)
            [[ -z "$sub" ]] && { COMPREPLY=($(compgen -W "check" -- "$cur")); return; }
            options="--conf-dir --set --help"
            [[ "$cur" != -* ]] && { COMPREPLY=($(compgen -f -- "$cur")); return; } ;;
        schema|reload)
            options="--source --help"
            [[ "$cur" != -* ]] && { COMPREPLY=($(compgen -W "$(_laredo_tables)" -- "$cur")); return; } ;;
        reset-source) options="--yes --drop-publication --help" ;;
        ready) options="--source --help" ;;
        drain) options="--keep-running --cancel --help" ;;
        watch) options="--interval --for --table --pipeline --no-changes --help" ;;
    esac
    COMPREPLY=($(compgen -W "$options $globals" -- "$cur"))
}

complete -F _laredo laredo
