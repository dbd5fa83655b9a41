# fish completion for hopchain. Installed as share/fish/vendor_completions.d/hopchain.fish.

set -l __hopchain_commands stdio forward socks udp check remote redirect exec

function __hopchain_chains
    set -l base $XDG_CONFIG_HOME
    test -n "$base"; or set base $HOME/.config
    for f in $base/hopchain/chains/*
        test -f $f; and basename $f
    end
end

complete -c hopchain -f

# Commands.
complete -c hopchain -n "not __fish_seen_subcommand_from $__hopchain_commands" -a stdio -d 'Join stdin and stdout to HOST PORT through the chain'
complete -c hopchain -n "not __fish_seen_subcommand_from $__hopchain_commands" -a forward -d 'Forward local ports through the chain'
complete -c hopchain -n "not __fish_seen_subcommand_from $__hopchain_commands" -a socks -d 'Serve SOCKS4, SOCKS4a and SOCKS5 locally'
complete -c hopchain -n "not __fish_seen_subcommand_from $__hopchain_commands" -a udp -d 'Carry local UDP ports through the chain'
complete -c hopchain -n "not __fish_seen_subcommand_from $__hopchain_commands" -a check -d 'Walk the chain hop by hop and report'
complete -c hopchain -n "not __fish_seen_subcommand_from $__hopchain_commands" -a remote -d 'Let the last hop listen (SOCKS BIND), join peers to HOST:PORT here'
complete -c hopchain -n "not __fish_seen_subcommand_from $__hopchain_commands" -a redirect -d 'Carry firewall-redirected connections through the chain'
complete -c hopchain -n "not __fish_seen_subcommand_from $__hopchain_commands" -a exec -d 'Run a command whose TCP connections all go through the chain'

# Chain options (before the command).
set -l pre "not __fish_seen_subcommand_from $__hopchain_commands"
complete -c hopchain -s h -l help -d 'Print help and exit'
complete -c hopchain -n $pre -l version -d 'Print the version and exit'
complete -c hopchain -n $pre -s x -l via -x -d 'Add a hop (proxy URL), nearest first' \
    -a 'socks4:// socks4a:// socks5:// socks5h:// http:// https:// socks4+tls:// socks4a+tls:// socks5+tls:// socks5h+tls://'
complete -c hopchain -n $pre -s f -l chain-file -r -F -d 'Read hops from FILE'
complete -c hopchain -n $pre -s c -l chain -x -a '(__hopchain_chains)' -d 'Named chain from the config folder'
complete -c hopchain -n $pre -l direct -d 'Connect without any hop (needed when no hop is given)'
complete -c hopchain -n $pre -l strategy -x -a 'strict dynamic random round-robin' -d 'How hops are chosen'
complete -c hopchain -n $pre -l chain-len -x -d 'Hops taken by random and round-robin'
complete -c hopchain -n $pre -l max-fails -x -d 'Failures before a hop counts as dead'
complete -c hopchain -n $pre -l fail-timeout -x -d 'Seconds a dead hop is skipped'
complete -c hopchain -n $pre -l connect-timeout -x -d 'Seconds for each connect and handshake'
complete -c hopchain -n $pre -l dns-server -x -d 'Resolve names with this DNS server (IP[:PORT])'
complete -c hopchain -n $pre -l cafile -r -F -d 'CA certificates for TLS hops (PEM)'
complete -c hopchain -n $pre -l pipeline -x -a 'auto always never' -d 'Pipelined handshakes'
complete -c hopchain -n $pre -s v -l verbose -d 'Log chain steps with timing (-vv: more)'
complete -c hopchain -n $pre -s q -l quiet -d 'Print nothing but errors'
complete -c hopchain -n $pre -l stats -d 'Print per-connection statistics and totals'

# Command options.
complete -c hopchain -n '__fish_seen_subcommand_from socks' -l users -r -F -d 'Require RFC 1929 username/password from FILE'
complete -c hopchain -n '__fish_seen_subcommand_from socks' -l gssapi-keytab -r -F -d 'Accept SOCKS5 GSS-API (Kerberos) clients with the keys of FILE'
complete -c hopchain -n '__fish_seen_subcommand_from socks' -l gssapi-service -x -d 'With --gssapi-keytab, the accepted service name (default rcmd)'
complete -c hopchain -n '__fish_seen_subcommand_from socks' -l gssapi-max-protection -x -a 'none integrity confidentiality' -d 'With --gssapi-keytab, the most protection granted'
complete -c hopchain -n '__fish_seen_subcommand_from socks' -l open -d 'Allow a non-loopback BIND without --users'
complete -c hopchain -n '__fish_seen_subcommand_from socks' -l udp-any-port -d 'With --users, accept UDP ASSOCIATE with DST.PORT 0 from other hosts'
complete -c hopchain -n '__fish_seen_subcommand_from socks' -l allow-local -d "Beyond loopback, still reach this host's local addresses"
complete -c hopchain -n '__fish_seen_subcommand_from socks' -l allow -x -d 'Let clients reach addresses in CIDR (first matching rule wins)'
complete -c hopchain -n '__fish_seen_subcommand_from socks' -l deny -x -d 'Refuse targets in CIDR (REP 0x02)'
complete -c hopchain -n '__fish_seen_subcommand_from forward' -l workers -x -d 'Event loops (threads) sharing the ports; 0 = one per core'
complete -c hopchain -n '__fish_seen_subcommand_from udp' -l udp-timeout -x -d 'Seconds before an idle association closes'
complete -c hopchain -n '__fish_seen_subcommand_from udp' -l udp-max-sources -x -d 'Local sources served at once per port'
complete -c hopchain -n '__fish_seen_subcommand_from check' -l json -d 'Print JSON'
complete -c hopchain -n '__fish_seen_subcommand_from check' -l bind -d 'Ask each SOCKS hop for a BIND'
complete -c hopchain -n '__fish_seen_subcommand_from remote' -l once -d 'Serve one connection, then exit'
complete -c hopchain -n '__fish_seen_subcommand_from remote' -l stdio -d 'Join the first connection to stdin/stdout'
complete -c hopchain -n '__fish_seen_subcommand_from remote' -l expect -x -a '(__fish_print_hostnames)' -d 'The peer the hop should accept'
complete -c hopchain -n '__fish_seen_subcommand_from remote' -l json -d 'Print a JSON line per listening address'
complete -c hopchain -n '__fish_seen_subcommand_from remote' -l accept-timeout -x -d 'Seconds one BIND waits for a peer'
complete -c hopchain -n '__fish_seen_subcommand_from redirect' -l udp -d 'Also take tproxy datagrams on the same port'
complete -c hopchain -n '__fish_seen_subcommand_from exec' -l dns -x -a 'fake chain' -d 'How the command resolves names'
complete -c hopchain -n '__fish_seen_subcommand_from exec' -l no-udp -d 'Do not carry the command'"'"'s UDP datagrams'
complete -c hopchain -n '__fish_seen_subcommand_from exec' -a '(__fish_complete_subcommand --fcs-skip=2)' -d 'Command'
complete -c hopchain -n '__fish_seen_subcommand_from stdio check' -a '(__fish_print_hostnames)' -d 'Host'
