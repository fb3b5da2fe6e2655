#include "digest/digest.h"
#include "tap.h"

#define EMPTY "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define ABC   "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

TEST(known_vectors)
{
        char d[DIGEST_STR_LEN + 1];
        digest_buf("", 0, d);
        ASSERT_STREQ(d, EMPTY);
        digest_buf("abc", 3, d);
        ASSERT_STREQ(d, ABC);
}

TEST(validity)
{
        ASSERT_TRUE(digest_is_valid(ABC));
        ASSERT_TRUE(!digest_is_valid(
                "sha256:BA7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        ASSERT_TRUE(!digest_is_valid("sha256:ba78"));
        ASSERT_TRUE(!digest_is_valid(
                "md5:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        ASSERT_TRUE(!digest_is_valid(NULL));
        _cleanup_error_ struct st_error *e = NULL;
        ASSERT_ERR(digest_check("nope", &e), ST_E_PARSE);
        ASSERT_STREQ(st_error_msg(e), "invalid digest 'nope'");
}

TEST(streams)
{
        struct st_reader *src = st_mem_reader_new("abc", 3);
        struct st_reader *dr = digest_reader_new(src);
        struct st_writer *dw = digest_writer_new(NULL);
        _cleanup_error_ struct st_error *e = NULL;
        ASSERT_OK_E(st_copy(dr, dw, &e), e);
        char a[DIGEST_STR_LEN + 1], b[DIGEST_STR_LEN + 1];
        digest_reader_final(dr, a);
        digest_writer_final(dw, b);
        ASSERT_STREQ(a, ABC);
        ASSERT_STREQ(b, ABC);
        st_reader_free(dr);
        st_reader_free(src);
        st_writer_free(dw);
}
