#include "storage/user_store.hpp"

#include <stdexcept>

namespace users::storage {

void throw_exception_from_error(const StoreError& error, const boost::source_location& /*location*/) {
  throw std::runtime_error("storage error: " + error.detail);
}

}  // namespace users::storage
