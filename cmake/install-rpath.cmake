# install-rpath.cmake: run by `cmake --install` once the llama.cpp libraries and peer
# tools are copied: their rpaths pointed into the llama.cpp build tree; now they say
# $ORIGIN-relative where the installed libraries are, so the prefix works anywhere.
# Set before this script (CMakeLists.txt): EB_PKGLIBDIR, EB_PKGLIBEXECDIR,
# EB_LIBEXEC_TO_LIB (relative to the prefix, and libexec -> lib).
set(root "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}")
file(GLOB libs "${root}/${EB_PKGLIBDIR}/lib*.so*")
foreach(f ${libs})
  if(NOT IS_SYMLINK "${f}")
    # a library that needs nothing of llama.cpp's (libggml-base) has no rpath to change
    file(READ_ELF "${f}" RPATH rpath RUNPATH runpath)
    if(rpath OR runpath)
      file(RPATH_SET FILE "${f}" NEW_RPATH "$ORIGIN")
    endif()
  endif()
endforeach()
file(GLOB peers "${root}/${EB_PKGLIBEXECDIR}/llama-*")
foreach(f ${peers})
  file(RPATH_SET FILE "${f}" NEW_RPATH "$ORIGIN/${EB_LIBEXEC_TO_LIB}")
endforeach()
