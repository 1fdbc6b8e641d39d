#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace laredo {

// Where a change sits in a source's history. A small copyable value whose meaning belongs to
// the source: the source alone compares positions and turns them into strings and back
// (sync_source::compare_positions / position_to_string / position_from_string). The engine
// and the snapshot files never look inside; they keep the string form so no type is lost.
//
// Alternatives:
//   empty     - no position (nothing seen yet)
//   sequence  - one unsigned 64-bit counter (testsource, CSV example)
//   pair      - (major, minor): PostgreSQL uses the commit LSN and the row's number inside the
//               transaction, so every event's position is strictly greater than the last
//   text      - an opaque string (e.g. a Kinesis shard map)
class position {
  public:
    enum class kind : std::uint8_t { empty, sequence, pair, text };

    position() noexcept = default;

    static position from_sequence(std::uint64_t value) noexcept;
    static position from_pair(std::uint64_t major, std::uint64_t minor) noexcept;
    static position from_text(std::string text);

    kind get_kind() const noexcept { return kind_; }
    bool empty() const noexcept { return kind_ == kind::empty; }

    // The counter of a sequence position. Throws laredo::error(invalid_position) otherwise.
    std::uint64_t sequence() const;
    // The halves of a pair position. Throw laredo::error(invalid_position) otherwise.
    std::uint64_t major() const;
    std::uint64_t minor() const;
    // The text of a text position. Throws laredo::error(invalid_position) otherwise.
    const std::string& text() const;

    // A neutral rendering for logs and test failures ("<empty>", "42", "(1,2)", "'abc'").
    // Not a serialization: use the source's position_to_string for that.
    std::string debug_string() const;

    friend bool operator==(const position&, const position&) = default;

  private:
    kind kind_ = kind::empty;
    std::uint64_t major_ = 0;
    std::uint64_t minor_ = 0;
    std::string text_;
};

}  // namespace laredo
