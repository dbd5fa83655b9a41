/// Errors of the SOCKS5 GSS-API method (RFC 1961): the sub-negotiation's own (malformed or
/// refused messages, a protection level below what the user requires), and the mechanism's
/// (what gss_init_sec_context, gss_wrap and gss_unwrap report), each named so a user knows what
/// to do ("run kinit", "check the clocks").
#pragma once

#include <system_error>

namespace hc::proto {

/// The RFC 1961 message exchange.
enum class GssapiError {
  bad_version = 1,          ///< VER is not 1 (RFC 1961 section 3.3)
  unexpected_message_type,  ///< MTYP is not the one this stage expects
  refused,                  ///< MTYP 0xFF: the server aborted the context (section 3.6)
  empty_token,              ///< a message without a token where one is required
  token_too_large,          ///< a token over 65,535 bytes (LEN is two bytes)
  bad_protection_message,   ///< the unwrapped protection level is not exactly one byte
  unknown_protection,       ///< a level other than 0 (none), 1 or 2; 3 (selective) included
  protection_too_weak,      ///< the server selected less than `require`
  message_too_large,        ///< the mechanism cannot wrap even one byte within 65,535
  unprotected_message,      ///< a message without the confidentiality that was negotiated
  truncated_message,        ///< the connection ended inside an encapsulated message
};

/// What the GSS-API mechanism reported, by the GSS major status (RFC 2744) or, for Kerberos,
/// the minor status that a user can act on.
enum class GssStatus {
  failure = 1,          ///< GSS_S_FAILURE with no more specific cause
  defective_token,      ///< GSS_S_DEFECTIVE_TOKEN: a token that does not parse
  bad_integrity,        ///< GSS_S_BAD_MIC: a message altered on the way
  duplicate_token,      ///< GSS_S_DUPLICATE_TOKEN: a replayed message
  old_token,            ///< GSS_S_OLD_TOKEN: a message too old to check for replay
  out_of_sequence,      ///< GSS_S_UNSEQ_TOKEN / GSS_S_GAP_TOKEN: messages reordered or lost
  no_credentials,       ///< GSS_S_NO_CRED: no ticket in the credentials cache
  credentials_expired,  ///< GSS_S_CREDENTIALS_EXPIRED: the ticket has expired
  context_expired,      ///< GSS_S_CONTEXT_EXPIRED
  bad_name,             ///< GSS_S_BAD_NAME: the service principal does not exist
  clock_skew,           ///< KRB5KRB_AP_ERR_SKEW: the clocks differ too much
  unavailable,          ///< this binary was built without GSS-API
};

const std::error_category& gssapi_category();
const std::error_category& gss_status_category();
std::error_code make_error_code(GssapiError e);
std::error_code make_error_code(GssStatus e);

}  // namespace hc::proto

template <>
struct std::is_error_code_enum<hc::proto::GssapiError> : std::true_type {};
template <>
struct std::is_error_code_enum<hc::proto::GssStatus> : std::true_type {};
