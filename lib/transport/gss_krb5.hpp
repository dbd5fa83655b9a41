/// The Kerberos GSS-API mechanism (MIT libgssapi_krb5) behind proto::GssContext, for SOCKS5
/// GSS-API hops (client) and the `socks` server (acceptor). Credentials come from the default
/// ccache (KRB5CCNAME) and the acceptor's keytab; never from a password.
#pragma once

#include <memory>
#include <string>
#include <system_error>

#include "base/result.hpp"
#include "proto/gssapi_context.hpp"

namespace hc::transport {

/// False when this binary was built without libkrb5-dev: every call below then fails with
/// GssStatus::unavailable.
bool gss_available();

/// A client context for the service principal SERVICE/HOST in the default realm, taken as
/// written (no DNS canonicalisation of HOST).
Result<std::unique_ptr<proto::GssContext>, std::error_code> make_gss_client(
    const std::string& service, const std::string& host);

/// An acceptor context with keys from `keytab`; after establishment the client's ticket must
/// have been for a principal whose first component is `service`.
Result<std::unique_ptr<proto::GssContext>, std::error_code> make_gss_server(
    const std::string& keytab, const std::string& service);

}  // namespace hc::transport
