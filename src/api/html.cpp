#include "api/html.hpp"

#include <fmt/format.h>

namespace users::api::html {
namespace {

constexpr std::string_view kStyle = R"(body{font-family:system-ui,sans-serif;margin:0;color:#222;background:#f6f7f9}
header{background:#2c3e50;color:#fff;padding:.8rem 1.5rem}header a{color:#fff;text-decoration:none}
main{max-width:60rem;margin:1.5rem auto;padding:0 1rem}
.response{background:#fff;border:1px solid #ddd;border-radius:6px;padding:1rem;overflow:auto}
.response pre{margin:0;white-space:pre-wrap;word-break:break-all}
.status{font-family:monospace;color:#555;margin-bottom:.5rem}
table{border-collapse:collapse;background:#fff;width:100%;margin:1rem 0}
th,td{border:1px solid #ddd;padding:.4rem .6rem;text-align:left}
form{background:#fff;border:1px solid #ddd;border-radius:6px;padding:1rem;margin:1rem 0}
label{display:block;margin:.6rem 0 .2rem;font-weight:600}
input{padding:.4rem;width:20rem;max-width:100%}
ul.errors{color:#b00020;margin:.2rem 0;padding-left:1.2rem}
.notice{background:#e7f6ec;border:1px solid #9cd3ad;padding:.6rem;border-radius:6px}
.error{background:#fdecea;border:1px solid #f5b7b1;padding:.6rem;border-radius:6px}
button{margin-top:.8rem;padding:.4rem 1rem}button.danger{background:#b00020;color:#fff;border:0}
)";

void append_escaped(std::string& out, std::string_view text) {
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
}

std::string begin_page(std::string_view title) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>";
  append_escaped(out, title);
  // A stylesheet, not an inline <style>: the pages' Content-Security-Policy
  // allows no inline style.
  out +=
      " · users-api</title><link rel=\"stylesheet\" href=\"/api/docs/users-api.css\"></head><body><header><a "
      "href=\"/api/\">users-api</a> · <a href=\"/api/users/\">users</a> · "
      "<a href=\"/api/docs/\">API docs</a></header><main><h1>";
  append_escaped(out, title);
  out += "</h1>";
  return out;
}

void append_response(std::string& out, const PageHead& head) {
  out += R"(<div class="response"><div class="status">HTTP )";
  out += fmt::format("{} ", head.status);
  append_escaped(out, head.reason);
  if (!head.allow.empty()) {
    out += "<br>Allow: ";
    append_escaped(out, head.allow);
  }
  out += "<br>Content-Type: application/json</div><pre id=\"json\">";
  append_escaped(out, head.json);
  out += "</pre></div>";
}

void append_errors(std::string& out, std::string_view field, const std::vector<std::string_view>& messages) {
  out += R"(<ul class="errors" data-field=")";
  out += field;
  out += "\">";
  for (const auto message : messages) {
    out += "<li>";
    append_escaped(out, message);
    out += "</li>";
  }
  out += "</ul>";
}

void append_fields(std::string& out, const Form& form) {
  if (!form.general_error.empty()) {
    out += R"(<p class="error" id="form-error">)";
    append_escaped(out, form.general_error);
    out += "</p>";
  }
  out += R"(<label for="dni">Dni</label><input id="dni" name="dni" maxlength="13" value=")";
  append_escaped(out, form.dni);
  out += "\">";
  append_errors(out, "dni", form.errors.dni);
  out += R"(<label for="name">Name</label><input id="name" name="name" maxlength="30" value=")";
  append_escaped(out, form.name);
  out += "\">";
  append_errors(out, "name", form.errors.name);
}

std::string end_page(bool with_script) {
  std::string out = "</main>";
  if (with_script) out += "<script src=\"/api/docs/users-api.js\"></script>";
  out += "</body></html>\n";
  return out;
}

}  // namespace

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  append_escaped(out, text);
  return out;
}

std::string root_page(const PageHead& head) {
  std::string out = begin_page("Api Root");
  out +=
      "<p>The users service. Browse <a href=\"/api/users/\">/api/users/</a>, or read the "
      "<a href=\"/api/docs/\">API documentation</a>.</p>";
  append_response(out, head);
  out += end_page(false);
  return out;
}

std::string list_page(const PageHead& head, const std::vector<domain::User>& users, bool truncated, const Form& form,
                      std::string_view notice, const PageLinks& links) {
  std::string out = begin_page("User List");
  if (!notice.empty()) {
    out += R"(<p class="notice" id="notice">)";
    append_escaped(out, notice);
    out += "</p>";
  }
  if (!links.previous.empty() || !links.next.empty()) {
    out += R"(<nav class="pages" id="pages">)";
    if (!links.previous.empty()) {
      out += R"(<a rel="prev" id="previous-page" href=")";
      append_escaped(out, links.previous);
      out += R"(">&laquo; Previous</a> )";
    }
    if (!links.next.empty()) {
      out += R"(<a rel="next" id="next-page" href=")";
      append_escaped(out, links.next);
      out += R"(">Next &raquo;</a>)";
    }
    out += "</nav>";
  }
  out += "<table id=\"users\"><thead><tr><th>id</th><th>dni</th><th>name</th></tr></thead><tbody>";
  for (const auto& user : users) {
    out += fmt::format("<tr><td><a href=\"/api/users/{0}/\">{0}</a></td><td>", user.id);
    append_escaped(out, user.dni);
    out += "</td><td>";
    append_escaped(out, user.name);
    out += "</td></tr>";
  }
  out += "</tbody></table>";
  if (truncated) {
    out += fmt::format(
        "<p>Showing the first {} users; <a href=\"/api/users/?format=json\">the JSON list</a> has "
        "them all.</p>",
        users.size());
  }
  out += R"(<form id="create" method="post" action="/api/users/"><h2>Create a user</h2>)";
  append_fields(out, form);
  out += "<button type=\"submit\">POST</button></form>";
  append_response(out, head);
  out += end_page(false);
  return out;
}

std::string item_page(const PageHead& head, const domain::User& user, const Form& form) {
  std::string out = begin_page("User Instance");
  out += fmt::format(R"(<form id="edit" data-url="/api/users/{}/"><h2>Edit</h2>)", user.id);
  append_fields(out, form);
  out +=
      "<button type=\"submit\">PUT</button> <button type=\"button\" class=\"danger\" id=\"delete\">DELETE</button>"
      "</form>";
  append_response(out, head);
  out += end_page(true);
  return out;
}

std::string message_page(const PageHead& head, std::string_view title) {
  std::string out = begin_page(title);
  append_response(out, head);
  out += end_page(false);
  return out;
}

std::string docs_page() {
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>users-api · API docs</title>"
         "<link rel=\"stylesheet\" href=\"/api/docs/swagger-ui.css\"></head><body><div id=\"swagger-ui\"></div>"
         "<script src=\"/api/docs/swagger-ui-bundle.js\"></script>"
         "<script src=\"/api/docs/swagger-initializer.js\"></script></body></html>\n";
}

std::string_view browsable_stylesheet() {
  return kStyle;
}

std::string_view swagger_initializer_script() {
  return "window.onload = function () {\n"
         "  window.ui = SwaggerUIBundle({ url: '/api/schema/', dom_id: '#swagger-ui', deepLinking: true });\n"
         "};\n";
}

// The item page's PUT and DELETE (a plain HTML form can only GET and POST).
std::string_view browsable_script() {
  return R"js('use strict';
(function () {
  const form = document.getElementById('edit');
  if (!form) return;
  const url = form.dataset.url;
  function showErrors(errors) {
    for (const list of form.querySelectorAll('ul.errors')) {
      list.replaceChildren();
      for (const message of errors[list.dataset.field] || []) {
        const item = document.createElement('li');
        item.textContent = message;
        list.appendChild(item);
      }
    }
    const general = errors.detail || (errors.non_field_errors || [])[0];
    let box = document.getElementById('form-error');
    if (general) {
      if (!box) { box = document.createElement('p'); box.id = 'form-error'; box.className = 'error'; form.prepend(box); }
      box.textContent = general;
    } else if (box) { box.remove(); }
  }
  form.addEventListener('submit', async function (event) {
    event.preventDefault();
    const body = new URLSearchParams(new FormData(form));
    const response = await fetch(url, { method: 'PUT', body: body, headers: { 'Accept': 'application/json' } });
    if (response.ok) { window.location.reload(); return; }
    showErrors(await response.json());
  });
  document.getElementById('delete').addEventListener('click', async function () {
    if (!window.confirm('Delete this user?')) return;
    const response = await fetch(url, { method: 'DELETE', headers: { 'Accept': 'application/json' } });
    if (response.ok) window.location.href = '/api/users/';
  });
})();
)js";
}

}  // namespace users::api::html
