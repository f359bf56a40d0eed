// The image decoders of dlt data import images: PNG (libpng) and JPEG
// (TurboJPEG) bytes of untrusted files, then a resize of what decodes.
#include "dlt/data/import/image_codec.h"
#include "dlt/data/import/image_resize.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (const int channels : {1, 3}) {
    dlt::data::Image img;
    // decode_image answers bad input with its reason; it must never throw or crash.
    if (dlt::data::decode_image({data, size}, channels, img).empty())
      (void)dlt::data::resize_image(img, 5, 7);
  }
  return 0;
}
