// Conditional requests on one user (RFC 9110 13.1.1, 13.1.2): the entity tags
// of If-Match and If-None-Match, and how they are compared with a user's tag
// (domain/entity_tag.hpp). Only with ETAGS=on; otherwise the fields are
// never read.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "domain/entity_tag.hpp"
#include "http/server.hpp"

namespace users::api {

// One entity-tag of a field: its opaque-tag without the quotes.
struct EntityTag {
  std::string opaque;
  bool weak = false;
};

// A field's value: `*`, or the entity tags listed. An element that is not an
// entity-tag is left out, so it matches nothing (for If-Match: 412, for
// If-None-Match: the full answer), and a field that is not `*` and holds no
// entity-tag matches nothing.
struct EntityTags {
  bool any = false;
  std::vector<EntityTag> tags;
};

EntityTags parse_entity_tags(std::string_view field);

// Every line of `field` in the request, joined as one list (RFC 9110 5.3);
// empty when absent.
std::string field_list(const http::Request& request, boost::beast::http::field field);

// If-Match: strong comparison (a weak tag never matches).
bool strong_match(const EntityTags& tags, std::string_view current);
// If-None-Match: weak comparison (W/ does not count).
bool weak_match(const EntityTags& tags, std::string_view current);

// The If-Match of a write as what the store must check: `*` is any existing
// user, a list the strong tags in it.
domain::Precondition write_precondition(const EntityTags& if_match);

// `"tag"`, as the ETag field carries it.
std::string quoted_tag(std::string_view opaque);

}  // namespace users::api
