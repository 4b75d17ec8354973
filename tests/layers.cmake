# layers.cmake -- the layering rule of docs/architecture.md, checked on the
# configured targets rather than on the text of the CMake files:
#
#   tn_base  <- tn_graph <- tn_dataset <- tn_service
#   tn_base  <- tn_wire  <- tn_service
#   tn_client -> tn_wire + tn_base (never the daemon, never igraph)
#
# Included from tests/CMakeLists.txt it defines tn_write_link_closures(),
# which writes each library's whole link closure (direct and transitive,
# through imported targets) to a file at configure time. Run with
# cmake -DLINKS=<file> -P it checks that file against the rule below.

if(CMAKE_SCRIPT_MODE_FILE)
  cmake_policy(VERSION 3.16)   # IN_LIST
endif()

# What each library must never reach, directly or through another.
set(TN_LAYER_FORBIDDEN_tn_base
  tn_graph tn_dataset tn_wire tn_service tn_client
  PkgConfig::IGRAPH PkgConfig::LIBEVENT PkgConfig::MSGPACK Threads::Threads)
set(TN_LAYER_FORBIDDEN_tn_graph
  tn_dataset tn_wire tn_service tn_client
  PkgConfig::LIBEVENT PkgConfig::MSGPACK Threads::Threads)
set(TN_LAYER_FORBIDDEN_tn_wire
  tn_graph tn_dataset tn_service tn_client
  PkgConfig::IGRAPH PkgConfig::LIBEVENT Threads::Threads)
set(TN_LAYER_FORBIDDEN_tn_client
  tn_graph tn_dataset tn_service
  PkgConfig::IGRAPH PkgConfig::LIBEVENT)
set(TN_LAYER_FORBIDDEN_tn_dataset
  tn_wire tn_service tn_client PkgConfig::LIBEVENT PkgConfig::MSGPACK)
set(TN_LAYER_FORBIDDEN_tn_service tn_client)
# ... and what it must reach, so that a renamed target cannot pass by
# default.
set(TN_LAYER_REQUIRED_tn_graph tn_base)
set(TN_LAYER_REQUIRED_tn_wire tn_base)
set(TN_LAYER_REQUIRED_tn_client tn_wire tn_base)
set(TN_LAYER_REQUIRED_tn_service tn_wire tn_graph tn_base)

# Append the link closure of target tgt to the list named by out.
function(tn_link_closure tgt out)
  set(seen ${${out}})
  set(todo ${tgt})
  while(todo)
    list(POP_FRONT todo t)
    get_target_property(type ${t} TYPE)
    get_target_property(imported ${t} IMPORTED)
    set(libs "")
    get_target_property(ilibs ${t} INTERFACE_LINK_LIBRARIES)
    if(ilibs)
      list(APPEND libs ${ilibs})
    endif()
    if(NOT imported AND NOT type STREQUAL "INTERFACE_LIBRARY")
      get_target_property(plibs ${t} LINK_LIBRARIES)
      if(plibs)
        list(APPEND libs ${plibs})
      endif()
    endif()
    foreach(l ${libs})
      # Private dependencies of a static library appear as $<LINK_ONLY:x>.
      string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" l "${l}")
      if(l IN_LIST seen)
        continue()
      endif()
      list(APPEND seen ${l})
      if(TARGET ${l})
        list(APPEND todo ${l})
      endif()
    endforeach()
  endwhile()
  set(${out} ${seen} PARENT_SCOPE)
endfunction()

function(tn_write_link_closures file)
  set(text "")
  foreach(tgt ${ARGN})
    set(closure "")
    tn_link_closure(${tgt} closure)
    string(REPLACE ";" " " closure "${closure}")
    string(APPEND text "${tgt}: ${closure}\n")
  endforeach()
  file(GENERATE OUTPUT ${file} CONTENT "${text}")
endfunction()

if(CMAKE_SCRIPT_MODE_FILE AND DEFINED LINKS)
  file(STRINGS ${LINKS} lines)
  set(bad 0)
  set(checked "")
  foreach(line ${lines})
    string(REGEX MATCH "^([^:]+): ?(.*)$" _ "${line}")
    set(tgt ${CMAKE_MATCH_1})
    separate_arguments(closure UNIX_COMMAND "${CMAKE_MATCH_2}")
    list(APPEND checked ${tgt})
    message(STATUS "${tgt} links: ${closure}")
    foreach(f ${TN_LAYER_FORBIDDEN_${tgt}})
      if(f IN_LIST closure)
        message(SEND_ERROR "${tgt} must not link ${f} (it reaches a layer above its own)")
        set(bad 1)
      endif()
    endforeach()
    foreach(r ${TN_LAYER_REQUIRED_${tgt}})
      if(NOT r IN_LIST closure)
        message(SEND_ERROR "${tgt} should link ${r}")
        set(bad 1)
      endif()
    endforeach()
  endforeach()
  foreach(tgt tn_base tn_graph tn_wire tn_client tn_service)
    if(NOT tgt IN_LIST checked)
      message(SEND_ERROR "${LINKS} has no line for ${tgt}")
      set(bad 1)
    endif()
  endforeach()
  if(bad)
    message(FATAL_ERROR "layering broken (see docs/architecture.md)")
  endif()
endif()
