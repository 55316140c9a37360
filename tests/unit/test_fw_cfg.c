/* tests/unit/test_fw_cfg.c — kvm/fw_cfg: the items a kernel written for
 * QEMU reads (signature, ID without DMA, RAM size, CPU counts, an empty
 * file directory), zeros for the rest, and selecting rewinds. */
#include "kvm/fw_cfg.h"

#include "tests/unit/check.h"

static struct fw_cfg f;

static uint64_t read_le(uint16_t key, unsigned n)
{
	uint64_t v = 0;
	fw_cfg_select(&f, key);
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)fw_cfg_read(&f) << (8 * i);
	return v;
}

static void test_signature_is_qemu(void)
{
	fw_cfg_init(&f, 128 << 20, 1, 1);
	fw_cfg_select(&f, FW_CFG_SIGNATURE);
	CHECK_EQ(fw_cfg_read(&f), 'Q');
	CHECK_EQ(fw_cfg_read(&f), 'E');
	CHECK_EQ(fw_cfg_read(&f), 'M');
	CHECK_EQ(fw_cfg_read(&f), 'U');
	CHECK_EQ(fw_cfg_read(&f), 0);
}

static void test_id_says_traditional_interface_without_dma(void)
{
	fw_cfg_init(&f, 128 << 20, 1, 1);
	CHECK_EQ(read_le(FW_CFG_ID, 4), 1);
}

static void test_ram_size_is_64_bit_little_endian(void)
{
	fw_cfg_init(&f, 3ULL << 30, 1, 1);
	CHECK_EQ(read_le(FW_CFG_RAM_SIZE, 8), 3ULL << 30);
}

static void test_cpu_counts(void)
{
	fw_cfg_init(&f, 128 << 20, 4, 16);
	CHECK_EQ(read_le(FW_CFG_NB_CPUS, 2), 4);
	CHECK_EQ(read_le(FW_CFG_MAX_CPUS, 2), 16);
	fw_cfg_init(&f, 128 << 20, 8, 2); /* max never below the count */
	CHECK_EQ(read_le(FW_CFG_MAX_CPUS, 2), 8);
}

static void test_file_directory_has_zero_files(void)
{
	fw_cfg_init(&f, 128 << 20, 1, 1);
	CHECK_EQ(read_le(FW_CFG_FILE_DIR, 8), 0);
}

static void test_unknown_items_and_bytes_past_the_end_read_zero(void)
{
	fw_cfg_init(&f, 128 << 20, 1, 1);
	CHECK_EQ(read_le(0x0002, 8), 0);
	CHECK_EQ(read_le(0x4000, 8), 0);
	CHECK_EQ(read_le(0xffff, 8), 0);
	fw_cfg_select(&f, FW_CFG_NB_CPUS);
	fw_cfg_read(&f);
	fw_cfg_read(&f);
	for (int i = 0; i < 100; i++)
		CHECK_EQ(fw_cfg_read(&f), 0);
}

static void test_selecting_again_rewinds_the_item(void)
{
	fw_cfg_init(&f, 128 << 20, 1, 1);
	fw_cfg_select(&f, FW_CFG_SIGNATURE);
	fw_cfg_read(&f);
	fw_cfg_read(&f);
	fw_cfg_select(&f, FW_CFG_SIGNATURE);
	CHECK_EQ(fw_cfg_read(&f), 'Q');
}

int main(void)
{
	RUN(test_signature_is_qemu);
	RUN(test_id_says_traditional_interface_without_dma);
	RUN(test_ram_size_is_64_bit_little_endian);
	RUN(test_cpu_counts);
	RUN(test_file_directory_has_zero_files);
	RUN(test_unknown_items_and_bytes_past_the_end_read_zero);
	RUN(test_selecting_again_rewinds_the_item);
	return check_summary();
}
