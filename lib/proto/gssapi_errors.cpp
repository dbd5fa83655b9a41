#include "proto/gssapi_errors.hpp"

#include <string>

namespace hc::proto {
namespace {

class GssapiCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "gssapi"; }
  std::string message(int ev) const override {
    switch (static_cast<GssapiError>(ev)) {
      case GssapiError::bad_version:
        return "malformed GSS-API message (version byte is not 1, RFC 1961)";
      case GssapiError::unexpected_message_type:
        return "unexpected GSS-API message type (RFC 1961)";
      case GssapiError::refused:
        return "the server refused GSS-API authentication (RFC 1961 abort message)";
      case GssapiError::empty_token:
        return "GSS-API message without a token";
      case GssapiError::token_too_large:
        return "GSS-API token over 65535 bytes";
      case GssapiError::bad_protection_message:
        return "malformed GSS-API protection level message (not one byte)";
      case GssapiError::unknown_protection:
        return "the server selected an unknown GSS-API protection level";
      case GssapiError::protection_too_weak:
        return "the server selected a weaker GSS-API protection than required";
      case GssapiError::message_too_large:
        return "the GSS-API mechanism cannot protect a message within 65535 bytes";
      case GssapiError::unprotected_message:
        return "GSS-API message without the negotiated confidentiality";
      case GssapiError::truncated_message:
        return "the connection ended inside a GSS-API protected message";
    }
    return "GSS-API error " + std::to_string(ev);
  }
};

class GssStatusCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "gss"; }
  std::string message(int ev) const override {
    switch (static_cast<GssStatus>(ev)) {
      case GssStatus::failure:
        return "GSS-API failure";
      case GssStatus::defective_token:
        return "defective GSS-API token";
      case GssStatus::bad_integrity:
        return "GSS-API integrity check failed (message altered)";
      case GssStatus::duplicate_token:
        return "replayed GSS-API message";
      case GssStatus::old_token:
        return "GSS-API message too old";
      case GssStatus::out_of_sequence:
        return "GSS-API message out of sequence";
      case GssStatus::no_credentials:
        return "no Kerberos ticket (run kinit)";
      case GssStatus::credentials_expired:
        return "the Kerberos ticket has expired (run kinit)";
      case GssStatus::context_expired:
        return "the GSS-API security context has expired";
      case GssStatus::bad_name:
        return "unknown GSS-API service principal";
      case GssStatus::clock_skew:
        return "clock skew too great between this machine and the KDC or the server";
      case GssStatus::unavailable:
        return "this hopchain was built without GSS-API (libkrb5-dev)";
    }
    return "GSS-API status " + std::to_string(ev);
  }
};

}  // namespace

const std::error_category& gssapi_category() {
  static const GssapiCategory c;
  return c;
}
const std::error_category& gss_status_category() {
  static const GssStatusCategory c;
  return c;
}
std::error_code make_error_code(GssapiError e) {
  return {static_cast<int>(e), gssapi_category()};
}
std::error_code make_error_code(GssStatus e) {
  return {static_cast<int>(e), gss_status_category()};
}

}  // namespace hc::proto
