// HMAC-SHA256, PBKDF2 and random bytes from the system's libcrypto (OpenSSL): webhook signatures and admin
// passwords need no extra package.
#ifndef SLOTD_CCRYPTO_H
#define SLOTD_CCRYPTO_H

#include <stddef.h>
#include <stdint.h>

/// Writes the 32-byte HMAC-SHA256 of `message` under `key` to `out`; returns 1 on success.
int ccrypto_hmac_sha256(const uint8_t *key, size_t key_length, const uint8_t *message, size_t message_length,
                        uint8_t out[32]);

/// Writes the 32-byte SHA-256 of `message` to `out`; returns 1 on success.
int ccrypto_sha256(const uint8_t *message, size_t message_length, uint8_t out[32]);

/// Writes `out_length` bytes of PBKDF2-HMAC-SHA256 of `password` and `salt` to `out`; returns 1 on success.
int ccrypto_pbkdf2_sha256(const uint8_t *password, size_t password_length, const uint8_t *salt, size_t salt_length,
                          uint32_t iterations, uint8_t *out, size_t out_length);

/// Fills `out` with `length` bytes from the system's cryptographic random generator; returns 1 on success.
int ccrypto_random_bytes(uint8_t *out, size_t length);

#endif
