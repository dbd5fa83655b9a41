# bash completion for hopchain                                  -*- shell-script -*-
# Installed as share/bash-completion/completions/hopchain.

_hopchain_chains()
{
    local dir="${XDG_CONFIG_HOME:-$HOME/.config}/hopchain/chains"
    [[ -d $dir ]] || return 0
    local f
    for f in "$dir"/*; do
        [[ -f $f ]] && printf '%s\n' "${f##*/}"
    done
}

_hopchain()
{
    local cur prev words cword
    if declare -F _init_completion >/dev/null 2>&1; then
        _init_completion -n =: || return
    else
        COMPREPLY=()
        cur="${COMP_WORDS[COMP_CWORD]}"
        prev="${COMP_WORDS[COMP_CWORD-1]}"
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
    fi

    local commands="stdio forward socks udp check remote redirect exec"
    local global_opts="-h --help --version -x --via -f --chain-file -c --chain --direct --strategy --chain-len
        --max-fails --fail-timeout --connect-timeout --dns-server --cafile --pipeline
        -v --verbose -q --quiet --stats"
    local schemes="socks4:// socks4a:// socks5:// socks5h:// http:// https://
        socks4+tls:// socks4a+tls:// socks5+tls:// socks5h+tls://"

    # The command given so far, if any.
    local cmd="" i
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            stdio | forward | socks | udp | check | remote | redirect | exec)
                cmd=${words[i]}
                break
                ;;
        esac
    done

    # exec: from its command on (after `--`, or its first word), complete as for that command.
    if [[ $cmd == exec ]]; then
        local j
        for ((j = i + 1; j < cword; j++)); do
            case ${words[j]} in
                --dns) ((j++)) ;;
                --no-udp | -h | --help) ;;
                --) ((j++)); break ;;
                *) break ;;
            esac
        done
        if ((j < cword)) && declare -F _command_offset >/dev/null; then
            _command_offset "$j"
            return
        fi
        if ((j <= cword)) && [[ $prev != --dns && $cur != -* ]]; then
            COMPREPLY=($(compgen -c -- "$cur"))
            return
        fi
    fi

    # Values of options.
    case $prev in
        -x | --via)
            compopt -o nospace 2>/dev/null
            COMPREPLY=($(compgen -W "$schemes" -- "$cur"))
            return
            ;;
        -f | --chain-file | --cafile | --users | --gssapi-keytab)
            COMPREPLY=($(compgen -f -- "$cur"))
            compopt -o filenames 2>/dev/null
            return
            ;;
        --gssapi-max-protection)
            COMPREPLY=($(compgen -W "none integrity confidentiality" -- "$cur"))
            return
            ;;
        -c | --chain)
            COMPREPLY=($(compgen -W "$(_hopchain_chains)" -- "$cur"))
            return
            ;;
        --strategy)
            COMPREPLY=($(compgen -W "strict dynamic random round-robin" -- "$cur"))
            return
            ;;
        --pipeline)
            COMPREPLY=($(compgen -W "auto always never" -- "$cur"))
            return
            ;;
        --dns)
            COMPREPLY=($(compgen -W "fake chain" -- "$cur"))
            return
            ;;
        --chain-len | --max-fails | --fail-timeout | --connect-timeout | --dns-server | --udp-timeout | --udp-max-sources | --workers | --allow | --deny | --accept-timeout)
            return
            ;;
        --expect)
            COMPREPLY=($(compgen -A hostname -- "$cur"))
            return
            ;;
    esac
    case $cur in
        --pipeline=*)
            COMPREPLY=($(compgen -W "auto always never" -- "${cur#--pipeline=}"))
            return
            ;;
        --strategy=*)
            COMPREPLY=($(compgen -W "strict dynamic random round-robin" -- "${cur#--strategy=}"))
            return
            ;;
    esac

    if [[ -z $cmd ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "$global_opts" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$commands" -- "$cur"))
        fi
        return
    fi

    if [[ $cur == -* ]]; then
        case $cmd in
            socks) COMPREPLY=($(compgen -W "-h --help --users --gssapi-keytab --gssapi-service --gssapi-max-protection --open --udp-any-port --allow-local --allow --deny" -- "$cur")) ;;
            forward) COMPREPLY=($(compgen -W "-h --help --workers" -- "$cur")) ;;
            udp) COMPREPLY=($(compgen -W "-h --help --udp-timeout --udp-max-sources" -- "$cur")) ;;
            check) COMPREPLY=($(compgen -W "-h --help --json --bind" -- "$cur")) ;;
            remote) COMPREPLY=($(compgen -W "-h --help --once --stdio --expect --json --accept-timeout" -- "$cur")) ;;
            redirect) COMPREPLY=($(compgen -W "-h --help --udp" -- "$cur")) ;;
            exec) COMPREPLY=($(compgen -W "-h --help --dns --no-udp --" -- "$cur")) ;;
            *) COMPREPLY=($(compgen -W "-h --help" -- "$cur")) ;;
        esac
        return
    fi
    if [[ $cmd == stdio || $cmd == check ]]; then
        COMPREPLY=($(compgen -A hostname -- "$cur"))
    fi
} &&
    complete -F _hopchain hopchain

# ex: filetype=sh
