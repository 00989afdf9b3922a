// HMAC-SHA256 from the system's libcrypto (OpenSSL), so webhook signatures need no extra package.
#ifndef SLOTD_CCRYPTO_H
#define SLOTD_CCRYPTO_H

#include <stddef.h>
#include <stdint.h>

/// Writes the 32-byte HMAC-SHA256 of `message` under `key` to `out`; returns 1 on success.
int ccrypto_hmac_sha256(const uint8_t *key, size_t key_length, const uint8_t *message, size_t message_length,
                        uint8_t out[32]);

/// Writes the 32-byte SHA-256 of `message` to `out`; returns 1 on success.
int ccrypto_sha256(const uint8_t *message, size_t message_length, uint8_t out[32]);

#endif
