/*
 * libsrtp 3 as mediasoup calls it, on top of Debian's libsrtp 2 (libsrtp2-dev): libsrtp 3
 * takes size_t lengths, separate in/out buffers and an MKI index; libsrtp 2 works in place on
 * an int length. mediasoup uses no MKI, so the index is ignored.
 */
#pragma once
#include <srtp2/srtp.h>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace srtp3_on_srtp2
{
	/* Copies `in` to `out` (when they differ), runs the libsrtp 2 call in place, sets *out_len. */
	template<typename Fn>
	inline srtp_err_status_t InPlace(
	  Fn fn, srtp_t ctx, const uint8_t* in, size_t in_len, uint8_t* out, size_t* out_len)
	{
		if (out != in)
			std::memmove(out, in, in_len);
		int len                    = static_cast<int>(in_len);
		const srtp_err_status_t st = fn(ctx, static_cast<void*>(out), &len);
		*out_len                   = static_cast<size_t>(len);
		return st;
	}
} // namespace srtp3_on_srtp2

inline srtp_err_status_t srtp_protect(
  srtp_t ctx, const uint8_t* rtp, size_t rtp_len, uint8_t* srtp, size_t* srtp_len, size_t /*mki*/)
{
	return srtp3_on_srtp2::InPlace(
	  static_cast<srtp_err_status_t (*)(srtp_t, void*, int*)>(&srtp_protect),
	  ctx, rtp, rtp_len, srtp, srtp_len);
}

inline srtp_err_status_t srtp_unprotect(
  srtp_t ctx, const uint8_t* srtp, size_t srtp_len, uint8_t* rtp, size_t* rtp_len)
{
	return srtp3_on_srtp2::InPlace(
	  static_cast<srtp_err_status_t (*)(srtp_t, void*, int*)>(&srtp_unprotect),
	  ctx, srtp, srtp_len, rtp, rtp_len);
}

inline srtp_err_status_t srtp_protect_rtcp(
  srtp_t ctx, const uint8_t* rtcp, size_t rtcp_len, uint8_t* srtcp, size_t* srtcp_len, size_t /*mki*/)
{
	return srtp3_on_srtp2::InPlace(
	  static_cast<srtp_err_status_t (*)(srtp_t, void*, int*)>(&srtp_protect_rtcp),
	  ctx, rtcp, rtcp_len, srtcp, srtcp_len);
}

inline srtp_err_status_t srtp_unprotect_rtcp(
  srtp_t ctx, const uint8_t* srtcp, size_t srtcp_len, uint8_t* rtcp, size_t* rtcp_len)
{
	return srtp3_on_srtp2::InPlace(
	  static_cast<srtp_err_status_t (*)(srtp_t, void*, int*)>(&srtp_unprotect_rtcp),
	  ctx, srtcp, srtcp_len, rtcp, rtcp_len);
}

/* Status codes libsrtp 3 added (its values); libsrtp 2 never returns them. */
constexpr srtp_err_status_t srtp_err_status_buffer_small = static_cast<srtp_err_status_t>(28);
constexpr srtp_err_status_t srtp_err_status_cryptex_err  = static_cast<srtp_err_status_t>(29);

/* Renamed in libsrtp 3. */
inline srtp_err_status_t srtp_stream_remove(srtp_t session, uint32_t ssrc)
{
	return srtp_remove_stream(session, ssrc);
}
