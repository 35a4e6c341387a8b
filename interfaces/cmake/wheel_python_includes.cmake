# Included into the vision_msgs build through CMAKE_PROJECT_INCLUDE (see the Makefile).
#
# The ROS 2 wheels on PyPI were built in a manylinux container, and their exported
# <pkg>__rosidl_generator_py targets still name that container's include directories
# (/opt/python/cp311-cp311/include/python3.11 and its numpy include). cmake refuses to
# generate with include directories that do not exist. Once configuration is complete
# (all imported targets exist), point those entries at this interpreter's real include
# directories, given as VIL_PYTHON_INCLUDE_DIR and VIL_NUMPY_INCLUDE_DIR.

if(NOT VIL_PYTHON_INCLUDE_DIR OR NOT EXISTS "${VIL_PYTHON_INCLUDE_DIR}/Python.h")
  message(FATAL_ERROR "VIL_PYTHON_INCLUDE_DIR must name the directory holding Python.h "
    "(got '${VIL_PYTHON_INCLUDE_DIR}')")
endif()
if(NOT VIL_NUMPY_INCLUDE_DIR OR NOT EXISTS "${VIL_NUMPY_INCLUDE_DIR}/numpy")
  message(FATAL_ERROR "VIL_NUMPY_INCLUDE_DIR must name numpy's C include directory "
    "(got '${VIL_NUMPY_INCLUDE_DIR}')")
endif()

function(vil_repoint_wheel_python_includes)
  get_property(targets DIRECTORY "${CMAKE_SOURCE_DIR}" PROPERTY IMPORTED_TARGETS)
  foreach(target IN LISTS targets)
    get_target_property(dirs ${target} INTERFACE_INCLUDE_DIRECTORIES)
    if(NOT dirs OR NOT "${dirs}" MATCHES "/opt/python/")
      continue()
    endif()
    set(fixed "")
    foreach(dir IN LISTS dirs)
      if(dir MATCHES "^/opt/python/.*/numpy/.*include$")
        list(APPEND fixed "${VIL_NUMPY_INCLUDE_DIR}")
      elseif(dir MATCHES "^/opt/python/.*/include/python")
        list(APPEND fixed "${VIL_PYTHON_INCLUDE_DIR}")
      elseif(dir MATCHES "^/opt/python/")
        message(FATAL_ERROR "${target}: unexpected build-machine include directory ${dir}")
      else()
        list(APPEND fixed "${dir}")
      endif()
    endforeach()
    list(REMOVE_DUPLICATES fixed)
    set_target_properties(${target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${fixed}")
  endforeach()
endfunction()

cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL vil_repoint_wheel_python_includes)
