#include "ccrypto.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

int ccrypto_hmac_sha256(const uint8_t *key, size_t key_length, const uint8_t *message, size_t message_length,
                        uint8_t out[32]) {
    unsigned int length = 0;
    if (HMAC(EVP_sha256(), key, (int)key_length, message, message_length, out, &length) == NULL) return 0;
    return length == 32;
}

int ccrypto_sha256(const uint8_t *message, size_t message_length, uint8_t out[32]) {
    return SHA256(message, message_length, out) != NULL;
}

int ccrypto_pbkdf2_sha256(const uint8_t *password, size_t password_length, const uint8_t *salt, size_t salt_length,
                          uint32_t iterations, uint8_t *out, size_t out_length) {
    if (iterations == 0 || iterations > 0x7fffffff) return 0;
    return PKCS5_PBKDF2_HMAC((const char *)password, (int)password_length, salt, (int)salt_length, (int)iterations,
                             EVP_sha256(), (int)out_length, out) == 1;
}

int ccrypto_random_bytes(uint8_t *out, size_t length) { return RAND_bytes(out, (int)length) == 1; }
