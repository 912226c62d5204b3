/* Nothing: the library comes from Debian (see meson.build). */
