// The mesh page served at / and /mesh on the monitoring port: one self-contained HTML page
// (inline CSS and JavaScript, no external fetches, works offline) that polls meshd's JSON
// debug endpoints (/debug/configz, /debug/syncz, /debug/pushz; /debug/registryz and
// /debug/endpointz when present) and draws proxies → services → endpoints with their sync
// state, per-object status, the last pushes with their latency and NACKs by object; when meshd
// stops answering it shows "meshd unreachable since hh:mm:ss, retrying" and recovers by itself.
// The source is controller/bootstrap/mesh_page.html, embedded at build time (embed_file.cmake,
// generated code in the build directory). Thread-safe (constant data).
#pragma once

#include "absl/strings/string_view.h"

namespace meshd::bootstrap {

// The page's HTML (UTF-8).
absl::string_view MeshPageHtml();

}  // namespace meshd::bootstrap
