// One conversion of a std::chrono::duration to weft::clock's nanoseconds, shared by sleep,
// wait_for, timeout and wait so every amount reads the same. duration_cast overflows
// (undefined behaviour) for amounts beyond about 292 years; this saturates instead: an
// amount above nanoseconds::max() becomes nanoseconds::max(), which as a delay means
// "never", and one below nanoseconds::min() becomes nanoseconds::min(), already passed.
// Inside the range the result is duration_cast's, exactly for integral counts (rounded
// toward zero). A NaN count is no amount of time: it throws weft::invalid_argument.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <ratio>
#include <string>
#include <type_traits>

#include <weft/errors.hpp>

namespace weft::detail {

// `what` names the caller in the NaN error ("weft::sleep").
template <class Rep, class Period>
std::chrono::nanoseconds saturating_nanoseconds(std::chrono::duration<Rep, Period> amount,
                                                const char* what) {
    static_assert(std::is_arithmetic_v<Rep>,
                  "weft takes durations whose count is an integer or a floating-point number");
    using std::chrono::nanoseconds;
    // Nanoseconds per unit of `amount`, as the reduced fraction num / den.
    using per_unit = std::ratio_divide<Period, std::nano>;
    const Rep count = amount.count();
    if constexpr (std::is_floating_point_v<Rep>) {
        if (std::isnan(count)) {
            throw invalid_argument(std::string(what) + ": the duration is NaN");
        }
        // 2^63 and every finite count scaled by the ratio fit a long double; so do infinities.
        constexpr long double two_to_63 = 9223372036854775808.0L;
        const long double scaled = static_cast<long double>(count) * per_unit::num / per_unit::den;
        if (scaled >= two_to_63) {
            return nanoseconds::max();
        }
        if (scaled <= -two_to_63) {
            return nanoseconds::min();
        }
        return nanoseconds(static_cast<std::int64_t>(scaled));
    } else {
        // Worked on the magnitude, in the widest unsigned type: |count| * num / den, split
        // as (|count| / den) * num + (|count| % den) * num / den so no step overflows.
        using wide = std::uintmax_t;
        bool negative = false;
        if constexpr (std::is_signed_v<Rep>) {
            negative = count < 0;
        }
        const wide magnitude =
            negative ? wide{0} - static_cast<wide>(count) : static_cast<wide>(count);
        // |nanoseconds::min()| is one more than nanoseconds::max().
        const wide limit = wide{std::numeric_limits<std::int64_t>::max()} + (negative ? 1 : 0);
        const nanoseconds saturated = negative ? nanoseconds::min() : nanoseconds::max();
        constexpr wide num = per_unit::num;
        constexpr wide den = per_unit::den;
        const wide whole_units = magnitude / den;
        if (whole_units > limit / num) {
            return saturated;
        }
        const wide remainder = magnitude % den;
        // remainder * num < den * num: exact when that product fits, else nearly so.
        const wide fraction = num <= std::numeric_limits<wide>::max() / den
                                  ? remainder * num / den
                                  : static_cast<wide>(static_cast<long double>(remainder) *
                                                      static_cast<long double>(num) / den);
        const wide whole = whole_units * num;
        if (fraction > limit - whole) {
            return saturated;
        }
        const wide result = whole + fraction;
        // C++20 converts modulo 2^64, so 0 - 2^63 lands on nanoseconds::min().
        return nanoseconds(static_cast<std::int64_t>(negative ? wide{0} - result : result));
    }
}

} // namespace weft::detail
