#include "ccrypto.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
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
