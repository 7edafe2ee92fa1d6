#pragma once

// Owning pointers to OpenSSL objects, each freed with its own function:
//   crypto::OpenSslPtr<X509, X509_free> cert(PEM_read_bio_X509(...));

#include <memory>

namespace kelola::crypto {

template <typename T, void (*Free)(T*)>
struct OpenSslFree {
  void operator()(T* p) const { Free(p); }
};

template <typename T, void (*Free)(T*)>
using OpenSslPtr = std::unique_ptr<T, OpenSslFree<T, Free>>;

}  // namespace kelola::crypto
