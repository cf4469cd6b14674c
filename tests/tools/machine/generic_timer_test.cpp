// The host-modelled EL1 timers (Arm ARM D11.2.4): condition, output, ISTATUS, TVAL as a signed
// 32-bit view of CVAL - count.
#include "generic_timer.hpp"

#include <gtest/gtest.h>

namespace vgic_machine {
namespace {

TEST(GenericTimer, OutputNeedsEnableUnmaskedAndCountAtCval) {
  TimerRegs t;
  t.cval = 100;
  EXPECT_FALSE(t.output(200));  // disabled
  t.write_ctl(TimerRegs::kEnable);
  EXPECT_FALSE(t.output(99));
  EXPECT_TRUE(t.output(100));
  EXPECT_EQ(t.read_ctl(100), TimerRegs::kEnable | TimerRegs::kIstatus);
  t.write_ctl(TimerRegs::kEnable | TimerRegs::kImask);
  EXPECT_FALSE(t.output(100));  // masked: the condition holds, the output does not
  EXPECT_EQ(t.read_ctl(100), TimerRegs::kEnable | TimerRegs::kImask | TimerRegs::kIstatus);
  EXPECT_EQ(t.deadline(), UINT64_MAX);  // a masked timer will not wake anyone
}

TEST(GenericTimer, IstatusIsReadOnly) {
  TimerRegs t;
  t.write_ctl(TimerRegs::kIstatus);
  EXPECT_EQ(t.read_ctl(0), 0u);
}

TEST(GenericTimer, TvalIsSigned32BitDistance) {
  TimerRegs t;
  t.write_tval(1000, 50);
  EXPECT_EQ(t.cval, 1050u);
  EXPECT_EQ(t.read_tval(1000), 50u);
  EXPECT_EQ(t.read_tval(1060), 0xFFFFFFF6u);  // -10: expired 10 ticks ago
  t.write_tval(1000, 0xFFFFFFFF);             // -1
  EXPECT_EQ(t.cval, 999u);
}

TEST(GenericTimer, BitsAndDeadlineOfBothTimers) {
  VcpuTimers v;
  v.virt.cval = 10;
  v.virt.write_ctl(TimerRegs::kEnable);
  v.phys.cval = 5;
  v.phys.write_ctl(TimerRegs::kEnable);
  EXPECT_EQ(v.bits(4), 0u);
  EXPECT_EQ(v.bits(5), 2u);   // physical timer: bit 1 (PPI 30)
  EXPECT_EQ(v.bits(10), 3u);  // and virtual: bit 0 (PPI 27)
  EXPECT_EQ(v.deadline(), 5u);
}

}  // namespace
}  // namespace vgic_machine
