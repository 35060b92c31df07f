//! How a written name splits into family (họ), middle (đệm) and given name (tên) by the
//! person's people (Dân tộc), after `shared/domain/names.md` (issue 11.8).
//!
//! The rules are a small table: which peoples write a gender prefix before the given name, which
//! prefixes they use, and where the clan goes. The prefix is kept as the middle part, so that it
//! sorts after the given name and never before it (decision 0009). No rule fits every person: the
//! per-person correction stays, and the import reports how many names each rule split.

use crate::text;

/// A rule that split a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SplitRule {
    /// Family name first, given name last (Kinh, Hrê, Ca Dong and every people not listed).
    LastWord,
    /// Ê Đê: gender prefix, given name, then the clan (one or more words).
    PrefixGivenClan,
    /// Gia Rai: the clan (one or more words), then the given name.
    ClanThenGiven,
    /// Ba Na, Xơ Đăng, Kơ Ho, M'nông: gender prefix, given name, then a family name if any.
    PrefixGiven,
}

impl SplitRule {
    /// The rule's code in the API.
    pub fn code(self) -> &'static str {
        match self {
            SplitRule::LastWord => "last_word",
            SplitRule::PrefixGivenClan => "prefix_given_clan",
            SplitRule::ClanThenGiven => "clan_then_given",
            SplitRule::PrefixGiven => "prefix_given",
        }
    }
    /// What the import report says about the rule.
    pub fn label(self) -> &'static str {
        match self {
            SplitRule::LastWord => "tên là chữ cuối (người Kinh và các dân tộc khác)",
            SplitRule::PrefixGivenClan => "Ê Đê: tên sau chữ chỉ giới (Y, H'), họ ở cuối",
            SplitRule::ClanThenGiven => "Gia Rai: họ đứng trước, tên là chữ cuối",
            SplitRule::PrefixGiven => "Ba Na, Xơ Đăng, Kơ Ho, M'nông: tên sau chữ chỉ giới",
        }
    }
}

/// The rule of a people and the gender prefixes it writes before the given name (folded).
struct People {
    names: &'static [&'static str],
    rule: SplitRule,
    prefixes: &'static [&'static str],
}

/// The table (names folded: no diacritics, lower case, apostrophes and spaces removed).
const PEOPLES: &[People] = &[
    People {
        names: &["ede", "rade", "rhade"],
        rule: SplitRule::PrefixGivenClan,
        // Y marks a man, H a woman.
        prefixes: &["y", "h"],
    },
    People {
        names: &["giarai", "jrai", "jarai"],
        rule: SplitRule::ClanThenGiven,
        prefixes: &[],
    },
    People {
        names: &["bana", "bahnar", "xodang", "sedang"],
        rule: SplitRule::PrefixGiven,
        // A marks a man, Y a woman (the reverse of the Ê Đê).
        prefixes: &["a", "y"],
    },
    People {
        names: &["coho", "kho", "koho"],
        rule: SplitRule::PrefixGiven,
        // K' marks a man, Ka a woman.
        prefixes: &["k", "ka"],
    },
    People {
        names: &["mnong"],
        rule: SplitRule::PrefixGiven,
        prefixes: &["y", "h"],
    },
];

/// A people's name folded for the table: "Ê Đê" → "ede", "M'nông" → "mnong".
fn fold_people(s: &str) -> String {
    text::fold(s)
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// A written word split into a gender prefix and the rest, when it carries one attached:
/// "H'Blum", "H’Blum", "HBlum" (a capital after the prefix), "K'Wẻ".
fn attached_prefix<'a>(word: &'a str, prefixes: &[&str]) -> Option<(&'a str, &'a str)> {
    for (i, c) in word.char_indices() {
        if c == '\'' || c == '’' {
            let (head, rest) = (&word[..i], &word[i + c.len_utf8()..]);
            if prefixes.contains(&fold_people(head).as_str()) && !rest.is_empty() {
                return Some((head, rest));
            }
            return None;
        }
    }
    // "HBlum": the prefix letter, then a capital.
    let mut chars = word.char_indices();
    let (_, first) = chars.next()?;
    let (at, second) = chars.next()?;
    if prefixes.contains(&fold_people(&first.to_string()).as_str())
        && first.is_uppercase()
        && second.is_uppercase()
    {
        return Some((&word[..at], &word[at..]));
    }
    None
}

/// A name split into (family, middle, given) and the rule that did it.
pub fn split(full: &str, ethnicity: &str) -> ((String, String, String), SplitRule) {
    let words: Vec<&str> = full.split_whitespace().collect();
    let people = fold_people(ethnicity);
    let entry = PEOPLES.iter().find(|p| p.names.contains(&people.as_str()));
    let Some(entry) = entry else {
        return (text::split_full_name(full), SplitRule::LastWord);
    };
    match entry.rule {
        SplitRule::ClanThenGiven => match words.as_slice() {
            [clan @ .., given] if !clan.is_empty() => (
                (clan.join(" "), String::new(), (*given).to_string()),
                SplitRule::ClanThenGiven,
            ),
            _ => (text::split_full_name(full), SplitRule::LastWord),
        },
        SplitRule::PrefixGivenClan | SplitRule::PrefixGiven => {
            // The prefix, written apart ("Y Blô", "H Blum") or attached ("H'Blum", "K'Wẻ").
            let (prefix, given, rest): (String, String, &[&str]) = match words.as_slice() {
                [first, given, rest @ ..]
                    if entry.prefixes.contains(&fold_people(first).as_str()) =>
                {
                    ((*first).to_string(), (*given).to_string(), rest)
                }
                [first, rest @ ..] => match attached_prefix(first, entry.prefixes) {
                    Some((p, g)) => (p.to_string(), g.to_string(), rest),
                    None => return (text::split_full_name(full), SplitRule::LastWord),
                },
                [] => return (text::split_full_name(full), SplitRule::LastWord),
            };
            ((rest.join(" "), prefix, given), entry.rule)
        }
        SplitRule::LastWord => (text::split_full_name(full), SplitRule::LastWord),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(full: &str, people: &str) -> (String, String, String, SplitRule) {
        let ((f, m, g), r) = split(full, people);
        (f, m, g, r)
    }

    fn expect(full: &str, people: &str, family: &str, middle: &str, given: &str, rule: SplitRule) {
        assert_eq!(
            parts(full, people),
            (family.into(), middle.into(), given.into(), rule),
            "{full} ({people})"
        );
    }

    /// The examples of names.md, from real name lists of the Central Highlands.
    #[test]
    fn names_split_by_people() {
        use SplitRule::*;
        expect("Nguyễn Văn An", "Kinh", "Nguyễn", "Văn", "An", LastWord);
        expect("Đinh Văn Hùng", "Hrê", "Đinh", "Văn", "Hùng", LastWord);
        // Ê Đê: prefix, given, clan of one or two words; the prefix attached or apart.
        expect(
            "Y Ngông Niê Kdăm",
            "Ê Đê",
            "Niê Kdăm",
            "Y",
            "Ngông",
            PrefixGivenClan,
        );
        expect("Y Blô Kpă", "Ê-đê", "Kpă", "Y", "Blô", PrefixGivenClan);
        expect(
            "H'Nghia Êban",
            "Ê Đê",
            "Êban",
            "H",
            "Nghia",
            PrefixGivenClan,
        );
        expect(
            "H’Blum Buôn Yă",
            "Ê Đê",
            "Buôn Yă",
            "H",
            "Blum",
            PrefixGivenClan,
        );
        expect(
            "H Blum Buôn Yă",
            "Ede",
            "Buôn Yă",
            "H",
            "Blum",
            PrefixGivenClan,
        );
        expect(
            "HBlum Buôn Yă",
            "Ê Đê",
            "Buôn Yă",
            "H",
            "Blum",
            PrefixGivenClan,
        );
        // Gia Rai: clan first (one or two words), given name last.
        expect("Nay Phin", "Gia Rai", "Nay", "", "Phin", ClanThenGiven);
        expect(
            "Rơ Mah Hling",
            "Gia-rai",
            "Rơ Mah",
            "",
            "Hling",
            ClanThenGiven,
        );
        // The same prefix Y: a man among the Ê Đê, a woman among the Ba Na — the split is the
        // same, the people decides it.
        expect("A Huy", "Ba Na", "", "A", "Huy", PrefixGiven);
        expect("Y Đai", "Xơ Đăng", "", "Y", "Đai", PrefixGiven);
        // Kơ Ho: K' attached, Ka apart, a family name after.
        expect("K'Wẻ", "Cơ Ho", "", "K", "Wẻ", PrefixGiven);
        expect(
            "Ka Mai Kra Zan",
            "Kơ Ho",
            "Kra Zan",
            "Ka",
            "Mai",
            PrefixGiven,
        );
        expect("Y Kông Bing", "M'nông", "Bing", "Y", "Kông", PrefixGiven);
        // A name that does not follow its people's pattern falls back to the last word.
        expect(
            "Đỗ Thị Hằng Buôn Krông",
            "Ê Đê",
            "Đỗ",
            "Thị Hằng Buôn",
            "Krông",
            LastWord,
        );
    }

    /// Every split only regroups the written words (the correction rule holds for it).
    #[test]
    fn splits_keep_the_written_words() {
        for (full, people) in [
            ("H'Nghia Êban", "Ê Đê"),
            ("K'Wẻ", "Kơ Ho"),
            ("Rơ Mah Hling", "Gia Rai"),
            ("Y Ngông Niê Kdăm", "Ê Đê"),
        ] {
            let ((f, m, g), _) = split(full, people);
            assert!(
                crate::org::PersonName::written_as(full, &f, &m, &g).is_ok(),
                "{full}"
            );
        }
    }
}
