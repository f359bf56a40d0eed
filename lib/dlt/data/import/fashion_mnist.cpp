// dlt data import fashion-mnist
#include <vector>

#include "dlt/data/import/idx.h"
#include "dlt/data/import/importers.h"

namespace dlt::data {

namespace {

// Index i names class i of the labels.
const std::vector<std::string> kClassNames = {"T-shirt/top", "Trouser", "Pullover", "Dress",
                                              "Coat",        "Sandal",  "Shirt",    "Sneaker",
                                              "Bag",         "Ankle boot"};

// <prefix>-images-idx3-ubyte.gz and <prefix>-labels-idx1-ubyte.gz -> <split>/images, <split>/labels.
void import_split(H5Writer& w, const std::string& dir, const std::string& prefix,
                  const std::string& split, const Layout& layout) {
  const std::string images_path = dir + "/" + prefix + "-images-idx3-ubyte.gz";
  const std::string labels_path = dir + "/" + prefix + "-labels-idx1-ubyte.gz";
  const IdxArray images = read_idx(images_path);
  const IdxArray labels = read_idx(labels_path);
  DLT_CHECK(images.shape.size() == 3, "{}: expected images (N, H, W), got shape {}", images_path,
            shape_str(images.shape));
  DLT_CHECK(labels.shape.size() == 1, "{}: expected labels (N), got shape {}", labels_path,
            shape_str(labels.shape));
  DLT_CHECK(images.shape[0] == labels.shape[0], "{} holds {} images but {} holds {} labels",
            images_path, images.shape[0], labels_path, labels.shape[0]);
  std::vector<int64_t> classes(labels.data.begin(), labels.data.end());
  for (size_t i = 0; i < classes.size(); ++i)
    DLT_CHECK(classes[i] < int64_t(kClassNames.size()), "{}: label {} of sample {} is not a class "
              "(0-9)", labels_path, classes[i], i);
  w.write(split + "/images", DType::u8, images.shape, images.data.data(), layout);
  w.write(split + "/labels", DType::i64, labels.shape, classes.data(), layout);
}

}  // namespace

void import_fashion_mnist(const std::string& src_dir, const std::string& out, const Layout& layout) {
  H5Writer w(out);
  import_split(w, src_dir, "train", "train", layout);
  import_split(w, src_dir, "t10k", "test", layout);
  w.set_attribute("/", "dataset", std::string("fashion-mnist"));
  w.set_attribute("/", "class_names", kClassNames);
  w.set_attribute("/", "source", src_dir);
  w.commit();
}

}  // namespace dlt::data
