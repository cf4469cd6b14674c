// Handlers for the per-interrupt register arrays that GICD and GICR SGI_base share
// (IGROUPR, IS/ICENABLER, IS/ICPENDR, IS/ICACTIVER, IPRIORITYR, ICFGR; IHI0069 12.9 and 12.11).
// Written once, for any context that provides:
//   Irq* find(uint32_t intid)       — nullptr for an unimplemented INTID (its bits are RAZ/WI)
//   void changed(Irq&)              — after state/configuration of irq changed
//   uint8_t priority_mask() const   — implemented priority bits
//   bool config_writable(uint32_t)  — whether ICFGR may change this INTID's trigger mode
#pragma once

#include <cstdint>

#include "irq/irq.hpp"
#include "mmio/register_table.hpp"

namespace gicv3::mmio {

template <class Ctx, bool Irq::*Flag>
uint64_t read_flag(Ctx& c, const Access& a) {
  uint64_t v = 0;
  for (unsigned i = 0; i < a.units; ++i)
    if (Irq* irq = c.find(a.intid + i); irq && irq->*Flag) v |= 1ull << i;
  return v;
}

// Write-1-to-set / write-1-to-clear of a flag (ISENABLER/ICENABLER, ISACTIVER/ICACTIVER).
template <class Ctx, bool Irq::*Flag, bool Value>
void write_flag_w1(Ctx& c, const Access& a, uint64_t v) {
  for (unsigned i = 0; i < a.units; ++i) {
    if (!((v >> i) & 1)) continue;
    if (Irq* irq = c.find(a.intid + i); irq && irq->*Flag != Value) {
      irq->*Flag = Value;
      c.changed(*irq);
    }
  }
}

// IGROUPR: a plain read/write bit per interrupt.
template <class Ctx, bool Irq::*Flag>
void write_flag(Ctx& c, const Access& a, uint64_t v) {
  for (unsigned i = 0; i < a.units; ++i) {
    if (Irq* irq = c.find(a.intid + i)) {
      const bool b = (v >> i) & 1;
      if (irq->*Flag != b) {
        irq->*Flag = b;
        c.changed(*irq);
      }
    }
  }
}

// ISPENDR/ICPENDR read the pending state, whatever its source (latch or asserted level).
template <class Ctx>
uint64_t read_pending(Ctx& c, const Access& a) {
  uint64_t v = 0;
  for (unsigned i = 0; i < a.units; ++i)
    if (Irq* irq = c.find(a.intid + i); irq && irq->pending()) v |= 1ull << i;
  return v;
}

// ISPENDR sets the pending latch. ICPENDR clears the latch only: a level interrupt whose input is
// still asserted stays pending (IHI0069 12.9.13), and a GICD_SETSPI_NSR assertion is such an input,
// removed only by GICD_CLRSPI_NSR (12.9, GICD_SETSPI_NSR). Neither is a deactivation: no
// resample/ack notification comes from here (seed 001).
template <class Ctx, bool Set>
void write_pending(Ctx& c, const Access& a, uint64_t v) {
  for (unsigned i = 0; i < a.units; ++i) {
    if (!((v >> i) & 1)) continue;
    if (Irq* irq = c.find(a.intid + i)) {
      irq->latch = Set;
      c.changed(*irq);
    }
  }
}

template <class Ctx>
uint64_t read_priority(Ctx& c, const Access& a) {
  uint64_t v = 0;
  for (unsigned i = 0; i < a.units; ++i)
    if (Irq* irq = c.find(a.intid + i)) v |= uint64_t(irq->priority) << (8 * i);
  return v;
}

template <class Ctx>
void write_priority(Ctx& c, const Access& a, uint64_t v) {
  for (unsigned i = 0; i < a.units; ++i) {
    if (Irq* irq = c.find(a.intid + i)) {
      // Unimplemented low-order priority bits are RAZ/WI (IHI0069 4.8.1).
      irq->priority = uint8_t(v >> (8 * i)) & c.priority_mask();
      c.changed(*irq);
    }
  }
}

// ICFGR: two bits per interrupt; bit [2n+1] is 1 for edge-triggered, bit [2n] is RES0.
template <class Ctx>
uint64_t read_config(Ctx& c, const Access& a) {
  uint64_t v = 0;
  for (unsigned i = 0; i < a.units; ++i)
    if (Irq* irq = c.find(a.intid + i); irq && irq->edge) v |= 2ull << (2 * i);
  return v;
}

template <class Ctx>
void write_config(Ctx& c, const Access& a, uint64_t v) {
  for (unsigned i = 0; i < a.units; ++i) {
    Irq* irq = c.find(a.intid + i);
    if (!irq || !c.config_writable(a.intid + i)) continue;
    const bool edge = (v >> (2 * i + 1)) & 1;
    if (irq->edge != edge) {
      irq->edge = edge;
      c.changed(*irq);
    }
  }
}

// Registers that are RAZ/WI in this configuration by the architecture (not a guest error):
// e.g. GICD_ITARGETSR with affinity routing, GICD_IGRPMODR and NSACR with DS == 1.
template <class Ctx>
uint64_t read_zero(Ctx&, const Access&) {
  return 0;
}
template <class Ctx>
void write_ignore(Ctx&, const Access&, uint64_t) {}

// Table-building helpers, so that each frame's table reads as a list of spec register names.
template <class Ctx>
constexpr RegisterDesc<Ctx> irq_array(const char* name, uint32_t offset, uint32_t nr_irqs, uint8_t bits,
                                      uint8_t widths, uint32_t first_intid, typename RegisterDesc<Ctx>::ReadFn rd,
                                      typename RegisterDesc<Ctx>::WriteFn wr, uint64_t reset = 0) {
  return RegisterDesc<Ctx>{name, offset, nr_irqs * bits / 8, uint8_t(bits == 64 ? 8 : 4), widths, bits,
                           first_intid, reset, ~0ull, rd, wr, nullptr, nullptr};
}

template <class Ctx>
constexpr RegisterDesc<Ctx> reg(const char* name, uint32_t offset, uint8_t reg_bytes, uint8_t widths, uint64_t reset,
                                 uint64_t writable, typename RegisterDesc<Ctx>::ReadFn rd,
                                 typename RegisterDesc<Ctx>::WriteFn wr, uint32_t count = 1,
                                 typename RegisterDesc<Ctx>::WriteFn restore = nullptr) {
  return RegisterDesc<Ctx>{name, offset, count * reg_bytes, reg_bytes, widths, 0, 0, reset, writable, rd, wr, restore, nullptr};
}

template <class Ctx>
constexpr RegisterDesc<Ctx> raz_wi(const char* name, uint32_t offset, uint32_t bytes, uint8_t widths) {
  return RegisterDesc<Ctx>{name, offset, bytes, 4, widths, 0, 0, 0, ~0ull, read_zero<Ctx>, write_ignore<Ctx>, nullptr, nullptr};
}

// The VMM's view of ISPENDR (KVM: Documentation/virt/kvm/devices/arm-vgic-v3.rst,
// vgic_v3_uaccess_write_pending): get and set the pending latch alone, a 0 clearing it; the input
// level is saved and restored separately (GRP_LEVEL_INFO). Reading pending() instead would restore
// a level interrupt pending only through its line as latched: still pending once the line drops.
// A GICD_SETSPI_NSR assertion has no place in KVM's ABI (KVM has no MBIS); it is saved as the
// latch, so that it is not lost (restored, it is delivered once; CLRSPI still clears it).
template <class Ctx>
uint64_t read_latch(Ctx& c, const Access& a) {
  uint64_t v = 0;
  for (unsigned i = 0; i < a.units; ++i)
    if (Irq* irq = c.find(a.intid + i); irq && (irq->latch || (!irq->edge && irq->msg_level))) v |= 1ull << i;
  return v;
}
template <class Ctx>
void restore_latch(Ctx& c, const Access& a, uint64_t v) {
  for (unsigned i = 0; i < a.units; ++i) {
    if (Irq* irq = c.find(a.intid + i); irq && irq->latch != bool((v >> i) & 1)) {
      irq->latch = (v >> i) & 1;
      c.changed(*irq);
    }
  }
}

// GICD_ISPENDR / ICPENDR (and the GICR ones): the guest's write-1-to-set/clear; for the VMM,
// ISPENDR is the latch and ICPENDR is RAZ/WI (KVM).
template <class Ctx, bool Set>
constexpr RegisterDesc<Ctx> pending_array(const char* name, uint32_t offset, uint32_t nr_irqs, uint32_t first_intid) {
  RegisterDesc<Ctx> d = irq_array<Ctx>(name, offset, nr_irqs, 1, Width::W32, first_intid, read_pending<Ctx>,
                                       write_pending<Ctx, Set>);
  d.uread = Set ? read_latch<Ctx> : read_zero<Ctx>;
  d.restore = Set ? restore_latch<Ctx> : write_ignore<Ctx>;
  return d;
}

}  // namespace gicv3::mmio
