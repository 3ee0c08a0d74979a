/*
 * sim — a small seeded random generator (SplitMix64).
 *
 * Each instance owns one generator seeded from its settings, so a run with the
 * same configuration produces the same values and the same online/offline
 * flapping — handy to reproduce a bug or a benchmark. Not for cryptography.
 */
#ifndef LINKGW_SIM_RNG_H
#define LINKGW_SIM_RNG_H

#include <stdint.h>

/** Generator state; any value (zero included) is a valid seed. */
struct sim_rng {
    uint64_t state;
};

/** Seeds @p r with @p seed. */
static inline void sim_rng_seed(struct sim_rng *r, uint64_t seed)
{
    r->state = seed;
}

/** Next 64 random bits (SplitMix64 by Steele, Lea and Flood). */
static inline uint64_t sim_rng_next(struct sim_rng *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/** Uniform double in [0, 1). */
static inline double sim_rng_unit(struct sim_rng *r)
{
    return (double)(sim_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/** Uniform double in [-1, 1). */
static inline double sim_rng_signed(struct sim_rng *r)
{
    return 2.0 * sim_rng_unit(r) - 1.0;
}

#endif /* LINKGW_SIM_RNG_H */
