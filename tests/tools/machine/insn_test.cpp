// A64 decoding the host relies on (Arm ARM C6): HVC/SMC/SVC/BRK, MRS/MSR system-register fields.
#include "insn.hpp"

#include <gtest/gtest.h>

namespace vgic_machine::insn {
namespace {

TEST(InsnDecode, ExceptionGeneratingInstructions) {
  EXPECT_TRUE(is_hvc(0xD4000002));          // hvc #0
  EXPECT_TRUE(is_hvc(0xD4000002 | 5 << 5));  // hvc #5
  EXPECT_FALSE(is_hvc(0xD4000003));         // smc #0
  EXPECT_TRUE(is_smc(0xD4000003));
  EXPECT_TRUE(is_svc(0xD4000841));  // svc #0x42
  EXPECT_EQ(imm16(0xD4000841), 0x42u);
  EXPECT_TRUE(is_brk(0xD4200000));
}

TEST(InsnDecode, MrsIccIar1) {
  auto a = decode_sysreg(0xD538CC04);  // mrs x4, icc_iar1_el1
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->read);
  EXPECT_EQ(a->rt, 4u);
  EXPECT_EQ(a->encoding(), (3u << 14) | (0u << 11) | (12u << 7) | (12u << 3) | 0u);
  EXPECT_TRUE(is_icc(*a));
}

TEST(InsnDecode, MsrIccSgi1rAndPmr) {
  auto a = decode_sysreg(0xD518CBA1);  // msr icc_sgi1r_el1, x1
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->read);
  EXPECT_EQ(a->rt, 1u);
  EXPECT_EQ(a->crn, 12u);
  EXPECT_EQ(a->crm, 11u);
  EXPECT_EQ(a->op2, 5u);
  EXPECT_TRUE(is_icc(*a));
  auto p = decode_sysreg(0xD5184600);  // msr icc_pmr_el1, x0
  ASSERT_TRUE(p);
  EXPECT_TRUE(is_icc(*p));
}

TEST(InsnDecode, NonGicRegistersAndOtherInstructions) {
  auto v = decode_sysreg(0xD518C000);  // msr vbar_el1, x0
  ASSERT_TRUE(v);
  EXPECT_FALSE(is_icc(*v));  // CRn 12, CRm 0: not a GIC register
  auto isr = decode_sysreg(0xD538C100);  // mrs x0, isr_el1 (3, 0, 12, 1, 0)
  ASSERT_TRUE(isr);
  EXPECT_FALSE(is_icc(*isr));
  auto dir = decode_sysreg(0xD518CB20);  // msr icc_dir_el1, x0 (3, 0, 12, 11, 1)
  ASSERT_TRUE(dir);
  EXPECT_TRUE(is_icc(*dir));
  auto c = decode_sysreg(0xD53BE042);  // mrs x2, cntvct_el0
  ASSERT_TRUE(c);
  EXPECT_EQ(c->op1, 3u);
  EXPECT_FALSE(is_icc(*c));
  EXPECT_FALSE(decode_sysreg(0xD503201F));  // nop (a hint, not MRS/MSR)
  EXPECT_FALSE(decode_sysreg(0x00000005));  // udf #5
}

}  // namespace
}  // namespace vgic_machine::insn
