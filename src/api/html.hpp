// The browsable API: what a person sees when a browser asks for a route, as
// DRF's BrowsableAPIRenderer offered. The same data as the JSON, a form to
// create a user on the list page, edit and delete on the item page, errors
// beside the fields. Everything a client typed is HTML-escaped.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "domain/user.hpp"
#include "domain/validation.hpp"

namespace users::api::html {

// What the form shows: the values last submitted and their errors.
struct Form {
  std::string dni;
  std::string name;
  domain::FieldErrors errors;
  std::string general_error;  // a non-field error (parse error, detail)
};

struct PageHead {
  unsigned status = 200;
  std::string_view reason;
  std::string_view allow;
  std::string json;  // the JSON answer to the same request, shown as is
};

std::string escape(std::string_view text);

std::string root_page(const PageHead& head);
// A paginated list's links to the pages beside it; empty: none.
struct PageLinks {
  std::string_view previous;
  std::string_view next;
};

std::string list_page(const PageHead& head, const std::vector<domain::User>& users, bool truncated, const Form& form,
                      std::string_view notice, const PageLinks& links = {});
std::string item_page(const PageHead& head, const domain::User& user, const Form& form);
std::string message_page(const PageHead& head, std::string_view title);
std::string docs_page();

// Static scripts and styles under /api/docs/.
std::string_view browsable_script();
std::string_view browsable_stylesheet();
std::string_view swagger_initializer_script();

}  // namespace users::api::html
