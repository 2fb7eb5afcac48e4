//! Generated MQTT credentials: a recognisable user name (`topicscope-<host>-<random>`) and a
//! strong random password that never leaves the process except to the API and the broker.

use rand::Rng as _;
use rand::distr::Alphanumeric;

/// Characters of the random part of a user name.
const NAME_RANDOM_CHARS: usize = 8;
/// Characters of the host part of a user name, at most.
const NAME_HOST_CHARS: usize = 24;
/// Characters of a generated password (alphanumeric: ~190 bits).
pub const PASSWORD_CHARS: usize = 32;

/// `topicscope-<host>-<random>`: the host name lower-cased, reduced to `[a-z0-9-]` and
/// shortened; 8 random `[a-z0-9]` make it unique.
pub fn generate_username(host: &str) -> String {
    let mut cleaned = String::new();
    for character in host.chars() {
        let character = character.to_ascii_lowercase();
        if character.is_ascii_alphanumeric() {
            cleaned.push(character);
        } else if !cleaned.ends_with('-') && !cleaned.is_empty() {
            cleaned.push('-');
        }
        if cleaned.len() >= NAME_HOST_CHARS {
            break;
        }
    }
    let cleaned = cleaned.trim_end_matches('-');
    let host = if cleaned.is_empty() { "host" } else { cleaned };
    let mut rng = rand::rng();
    let random: String = (0..NAME_RANDOM_CHARS)
        .map(|_| {
            let digit = rng.random_range(0..36u32);
            char::from_digit(digit, 36).unwrap_or('0')
        })
        .collect();
    format!("topicscope-{host}-{random}")
}

/// This machine's host name (for [`generate_username`]).
pub fn local_host_name() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

/// A random password of [`PASSWORD_CHARS`] letters and digits with at least one upper-case
/// letter, one lower-case letter and one digit (in case the platform has a policy), from the
/// thread-local CSPRNG (seeded by the OS).
pub fn generate_password() -> String {
    let mut rng = rand::rng();
    loop {
        let password: String = (&mut rng)
            .sample_iter(Alphanumeric)
            .take(PASSWORD_CHARS)
            .map(char::from)
            .collect();
        let has = |test: fn(&char) -> bool| password.chars().any(|c| test(&c));
        if has(char::is_ascii_uppercase)
            && has(char::is_ascii_lowercase)
            && has(char::is_ascii_digit)
        {
            return password;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_carry_a_cleaned_host_and_a_random_part() {
        let name = generate_username("Bob's MacBook.local");
        let (prefix, random) = name.rsplit_once('-').expect("dash");
        assert_eq!(prefix, "topicscope-bob-s-macbook-local");
        assert_eq!(random.len(), 8);
        assert!(
            random
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        );
        assert_ne!(generate_username("h"), generate_username("h"));
    }

    #[test]
    fn odd_host_names_still_give_a_valid_name() {
        assert!(generate_username("").starts_with("topicscope-host-"));
        assert!(generate_username("ÄÖÜ").starts_with("topicscope-host-"));
        let long = generate_username(&"x".repeat(200));
        assert!(long.len() <= "topicscope-".len() + NAME_HOST_CHARS + 1 + NAME_RANDOM_CHARS);
    }

    #[test]
    fn passwords_are_long_mixed_and_different() {
        let first = generate_password();
        assert_eq!(first.len(), PASSWORD_CHARS);
        assert!(first.chars().all(|c| c.is_ascii_alphanumeric()));
        assert!(first.chars().any(|c| c.is_ascii_digit()));
        assert!(first.chars().any(|c| c.is_ascii_uppercase()));
        assert_ne!(first, generate_password());
    }
}
