//! The book's configuration reference lists every key a configuration has.

#[test]
fn every_configuration_key_is_in_the_reference() {
    let page = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/book/src/configuration.md"
    ))
    .unwrap();
    // Optional keys appear in the TOML only when set.
    let config = epm::Config {
        tracers: Some(1),
        ..Default::default()
    };
    let toml: toml::Value = toml::from_str(&config.to_toml()).unwrap();
    let mut keys = vec![];
    for (key, value) in toml.as_table().unwrap() {
        match value.as_table() {
            Some(table) => keys.extend(table.keys().cloned()),
            None => keys.push(key.clone()),
        }
    }
    // Both activation rules' keys.
    keys.extend(["temperature".into(), "activity".into()]);
    for key in keys {
        assert!(
            page.contains(&format!("| `{key}` |")),
            "book/src/configuration.md does not document `{key}`"
        );
    }
}

/// The run and sweep files the book and the README use load and describe what they say.
#[test]
fn the_example_configurations_load() {
    let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/configs"));
    let config = epm::Config::load(&dir.join("thermal.toml")).unwrap();
    config.validate().unwrap();
    assert_eq!((config.l, config.steps), (64, 40_000));
    assert_eq!(
        config.activation,
        epm::ActivationConfig::Thermal { temperature: 0.1 }
    );

    let sweep = epm_cli::sweep::SweepFile::load(&dir.join("sweep.toml")).unwrap();
    let runs = sweep.runs().unwrap();
    // 4 temperatures x 2 seeds x 2 models, thermal runs first, each random run naming its twin.
    assert_eq!(runs.len(), 16);
    assert!(runs[..8].iter().all(|r| r.twin.is_none()));
    for random in &runs[8..] {
        let twin = random.twin.as_ref().unwrap();
        assert!(runs[..8].iter().any(|t| &t.name == twin), "{twin}");
        random.config.validate().unwrap();
    }

    // The conventions study (book, "The model"): one sweep per choice, each what its name says.
    use epm::propagator::{DisplacementStrain, Normalisation, PropagatorForm, PropagatorSpec};
    let literal = PropagatorSpec::LITERAL;
    let paper = PropagatorSpec::PAPER;
    for (name, spec) in [
        ("literal", literal),
        (
            "lattice",
            PropagatorSpec {
                form: PropagatorForm::Lattice,
                ..literal
            },
        ),
        (
            "continuum-self-term",
            PropagatorSpec {
                normalisation: Normalisation::SelfTerm,
                ..literal
            },
        ),
        ("paper", paper),
        (
            "paper-engineering",
            PropagatorSpec {
                strain: DisplacementStrain::Engineering,
                ..paper
            },
        ),
        (
            "continuum-far-field",
            PropagatorSpec {
                normalisation: Normalisation::FarField,
                ..literal
            },
        ),
    ] {
        let path = dir.join("conventions").join(format!("{name}.toml"));
        let sweep = epm_cli::sweep::SweepFile::load(&path).unwrap();
        let runs = sweep.runs().unwrap();
        assert_eq!(runs.len(), 4, "{name}");
        for r in &runs {
            assert_eq!(r.config.propagator, spec, "{name}");
            r.config.validate().unwrap();
        }
    }
}
