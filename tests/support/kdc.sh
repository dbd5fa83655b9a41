# shellcheck shell=bash
# shellcheck disable=SC2034  # KDC_* variables are set here for the sourcing scripts
# Kerberos additions to the test lab (tests/support/lab.sh): a throw-away KDC on loopback with
# its own realm, a service keytab and a user ticket, for the SOCKS5 GSS-API (RFC 1961) tests.
# Source it after lab.sh, then call kdc_init after lab_init:
#
#   source "$HC_SUPPORT/lab.sh"; source "$HC_SUPPORT/kdc.sh"; lab_init; kdc_init
#
#   kdc_init [MAX_LIFE]       realm $KDC_REALM in $LAB/kdc (database, stash, krb5.conf and
#                             kdc.conf; KRB5_CONFIG and KRB5_KDC_PROFILE exported and pointing
#                             there), a master key from /dev/urandom, krb5kdc -n on 127.0.0.1:
#                             $KDC_PORT (TCP and UDP, waited for), the service principal
#                             rcmd/localhost in $KDC_SERVICE_KEYTAB, the user $KDC_USER in
#                             $KDC_USER_KEYTAB, and a ticket for that user in the credentials
#                             cache $KRB5CCNAME (a file of the lab, exported). MAX_LIFE (kdc.conf
#                             syntax, default 1h) bounds every ticket of the realm.
#   kdc_add_service NAME KEYTAB  another service principal (NAME/localhost) into KEYTAB
#   kdc_kinit [CCACHE]        a fresh ticket for $KDC_USER into CCACHE (default $KRB5CCNAME)
#
# Nothing outside $LAB is read or written: no /etc/krb5.conf, no system keytab. The KDC only
# listens on 127.0.0.1 (kdc_listen), and its realm's names never reach DNS (no lookups, no
# canonicalisation), so SERVICE/localhost is exactly the principal the tests ask for.

KDC_REALM=HOPCHAIN.TEST
KDC_USER=alice

_kdc_admin() { # QUERY
  kadmin.local -r "$KDC_REALM" -q "$1" >>"$LAB/kdc/kadmin.log" 2>&1 ||
    fail "kadmin.local '$1' failed (see $LAB/kdc/kadmin.log)"
  # kadmin.local reports a failed query on stderr yet exits 0.
  if tail -n 3 "$LAB/kdc/kadmin.log" | grep -qiE "does not exist|error|failed|cannot"; then
    tail -n 5 "$LAB/kdc/kadmin.log" >&2
    fail "kadmin.local '$1' failed"
  fi
}

_kdc_write_config() { # DIR MAX_LIFE
  local dir=$1 life=$2
  cat >"$dir/krb5.conf" <<EOF
[libdefaults]
  default_realm = $KDC_REALM
  dns_lookup_kdc = false
  dns_lookup_realm = false
  dns_canonicalize_hostname = false
  rdns = false
  udp_preference_limit = 1
  ticket_lifetime = $life
[realms]
  $KDC_REALM = {
    kdc = 127.0.0.1:$KDC_PORT
  }
[domain_realm]
  localhost = $KDC_REALM
EOF
  cat >"$dir/kdc.conf" <<EOF
[kdcdefaults]
  kdc_listen = 127.0.0.1:$KDC_PORT
  kdc_tcp_listen = 127.0.0.1:$KDC_PORT
[realms]
  $KDC_REALM = {
    database_name = $dir/principal
    key_stash_file = $dir/stash
    acl_file = $dir/kadm5.acl
    max_life = $life
    max_renewable_life = $life
  }
[logging]
  kdc = FILE:$dir/kdc.log
EOF
  : >"$dir/kadm5.acl"
}

kdc_init() { # [MAX_LIFE]
  lab_require krb5kdc kdb5_util kadmin.local kinit
  local dir=$LAB/kdc life=${1:-1h}
  mkdir -p "$dir"
  KDC_PORT=$(free_port)
  _kdc_write_config "$dir" "$life"
  export KRB5_CONFIG=$dir/krb5.conf KRB5_KDC_PROFILE=$dir/kdc.conf
  # The master key protects nothing worth keeping; it only has to be unguessable.
  kdb5_util create -s -r "$KDC_REALM" -P "$(head -c 24 /dev/urandom | base64)" \
    >>"$dir/kadmin.log" 2>&1 || fail "kdb5_util create failed (see $dir/kadmin.log)"
  KDC_SERVICE_KEYTAB=$dir/service.keytab
  KDC_USER_KEYTAB=$dir/user.keytab
  kdc_add_service rcmd "$KDC_SERVICE_KEYTAB"
  _kdc_admin "addprinc -randkey $KDC_USER"
  _kdc_admin "ktadd -k $KDC_USER_KEYTAB $KDC_USER"
  lab_bg kdc krb5kdc -n -P "$dir/kdc.pid"
  _lab_wait_up kdc "$LAB_LAST_PID" "$KDC_PORT" 127.0.0.1
  export KRB5CCNAME=FILE:$dir/ccache
  kdc_kinit
}

kdc_add_service() { # NAME KEYTAB
  _kdc_admin "addprinc -randkey $1/localhost"
  _kdc_admin "ktadd -k $2 $1/localhost"
}

kdc_kinit() { # [CCACHE]
  local cc=${1:-$KRB5CCNAME}
  KRB5CCNAME=$cc timeout 10 kinit -k -t "$KDC_USER_KEYTAB" "$KDC_USER" \
    >>"$LAB/kdc/kinit.log" 2>&1 || fail "kinit $KDC_USER failed (see $LAB/kdc/kinit.log)"
}
