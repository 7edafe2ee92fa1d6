#pragma once

// E-mail addresses: a pragmatic syntax check and the normalized form used for storage and
// duplicate detection (C6: e-mail is case-insensitive).

#include <string>
#include <string_view>

namespace kelola::text {

// Pragmatic syntax check of an address as stored (pass it through NormalizeEmail() first; no
// surrounding spaces are accepted here). Accepts what people actually type, including
// internationalized (UTF-8) local parts and domains; refuses what is certainly a typo:
//  - valid UTF-8, at most 254 bytes, no white space or control characters;
//  - exactly one '@';
//  - local part 1..64 bytes of letters, digits, non-ASCII, and  ! # $ % & ' * + / = ? ^ _ ` {
//    | } ~ - .  with no leading, trailing or doubled '.'. Quoted local parts are not accepted;
//  - domain of at least two labels separated by '.', each 1..63 bytes of letters, digits,
//    non-ASCII or '-', not starting or ending with '-'; the last label (TLD) is not all
//    digits and has at least two characters. IP-literal domains ("[1.2.3.4]") are refused.
// Deliverability is not checked.
bool IsValidEmail(std::string_view email);

// Trims white space and lower-cases the whole address (Unicode-aware, NFC). Provider-specific
// rewriting (Gmail dots, "+tag") is NOT applied: those are different addresses elsewhere.
std::string NormalizeEmail(std::string_view email);

}  // namespace kelola::text
