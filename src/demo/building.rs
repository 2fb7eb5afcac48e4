//! The datapoint catalogue of the simulated building: about 230 datapoints with BACnet-style
//! names, grouped into weather station, air handling units, heating circuits, rooms, meters,
//! chillers and a boiler plant. Each entry says how its value behaves ([`Signal`]) and how often
//! it is published ([`Cadence`]).
//!
//! The catalogue is plain data and contains no randomness: the same list every run, so topics
//! and hash ids are stable and the simulator is deterministic given its seed.

/// BACnet object type of a datapoint, written into its metadata as `objtype`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectType {
    AnalogInput,
    AnalogValue,
    BinaryInput,
    BinaryValue,
    Accumulator,
    TrendLog,
}

impl ObjectType {
    /// The BACnet spelling used in aedifion metadata (`analogInput`, `trendLog`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectType::AnalogInput => "analogInput",
            ObjectType::AnalogValue => "analogValue",
            ObjectType::BinaryInput => "binaryInput",
            ObjectType::BinaryValue => "binaryValue",
            ObjectType::Accumulator => "accumulator",
            ObjectType::TrendLog => "trendLog",
        }
    }
}

/// How a datapoint's value evolves over time.
#[derive(Debug, Clone, PartialEq)]
pub enum Signal {
    /// A random walk around a daily cosine curve (temperatures, humidity, radiation).
    Daily {
        mean: f64,
        amplitude: f64,
        /// Local hour of the curve's maximum.
        peak_hour: f64,
        /// Size of the random walk per square root of a second.
        walk_step: f64,
        min: f64,
        max: f64,
    },
    /// Cycles through fixed levels, holding each for `hold_secs` (a scheduled setpoint).
    /// A SWOP write overrides the schedule until it is relinquished.
    Stepped { levels: Vec<f64>, hold_secs: u32 },
    /// Tracks another datapoint (by catalogue index) with a first-order lag plus noise.
    Follow {
        leader: usize,
        offset: f64,
        tau_secs: f64,
        noise: f64,
    },
    /// A 0/1 status that flips at random with the given mean durations.
    Binary {
        mean_on_secs: f64,
        mean_off_secs: f64,
    },
    /// A value between `base` and `peak` that rises with building occupancy, plus noise.
    Load { base: f64, peak: f64, noise: f64 },
    /// A monotonic meter reading growing on average by `rate_per_hour` at full occupancy.
    Counter { start: f64, rate_per_hour: f64 },
}

/// When and how a datapoint's readings are published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cadence {
    /// One reading per message every `period_millis`.
    Periodic { period_millis: u32 },
    /// Every `every_secs`, `count` readings spread over the past interval, each in its own
    /// message, sent in one quick burst (a meter that buffers and flushes).
    Burst { count: u32, every_secs: u32 },
    /// Every `every_secs`, `count` readings as lines of one multi-line message.
    Batch { count: u32, every_secs: u32 },
    /// Periodic, but silent for `quiet_secs` after every `active_secs` (a flaky radio sensor:
    /// the explorer shows it going stale).
    Intermittent {
        period_millis: u32,
        active_secs: u32,
        quiet_secs: u32,
    },
}

impl Cadence {
    /// Time between two publications of this datapoint, in milliseconds.
    pub fn interval_millis(self) -> u64 {
        match self {
            Cadence::Periodic { period_millis } | Cadence::Intermittent { period_millis, .. } => {
                u64::from(period_millis.max(1))
            }
            Cadence::Burst { every_secs, .. } | Cadence::Batch { every_secs, .. } => {
                u64::from(every_secs.max(1)) * 1000
            }
        }
    }

    /// Number of readings produced at each publication.
    pub fn readings_per_publication(self) -> u32 {
        match self {
            Cadence::Periodic { .. } | Cadence::Intermittent { .. } => 1,
            Cadence::Burst { count, .. } | Cadence::Batch { count, .. } => count.max(1),
        }
    }
}

/// The range a SWOP `NEWSPT` may write to a writable datapoint.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WriteRange {
    pub min: f64,
    pub max: f64,
}

impl WriteRange {
    /// True when `value` lies inside the range (bounds included).
    pub fn contains(self, value: f64) -> bool {
        value >= self.min && value <= self.max
    }
}

/// One simulated datapoint.
#[derive(Debug, Clone, PartialEq)]
pub struct DatapointSpec {
    /// The datapoint id exactly as the edge device reports it (raw, unescaped).
    pub name: String,
    /// The plant system it belongs to (`RLT01`, `HK02`, `Raum 1.OG 113`, …).
    pub system: String,
    /// BACnet device instance of the controller that hosts it.
    pub device_instance: u32,
    pub objtype: ObjectType,
    pub objinstance: u32,
    pub units: &'static str,
    pub description: String,
    pub signal: Signal,
    pub cadence: Cadence,
    /// Decimal places written into the line protocol.
    pub decimals: u8,
    /// `Some` for setpoints that accept SWOP writes.
    pub write_range: Option<WriteRange>,
}

/// Builds the catalogue of the demo building. Always the same list, in the same order.
pub fn catalogue() -> Vec<DatapointSpec> {
    let mut builder = CatalogueBuilder::default();
    builder.weather_station();
    for ahu in 1..=4 {
        builder.air_handling_unit(ahu);
    }
    for (circuit, label) in HEATING_CIRCUITS.iter().enumerate() {
        builder.heating_circuit(circuit + 1, label);
    }
    builder.rooms();
    builder.meters();
    for chiller in 1..=2 {
        builder.chiller(chiller);
    }
    builder.boiler_plant();
    builder.datapoints
}

const HEATING_CIRCUITS: [&str; 5] = ["Nord", "Süd", "Fußbodenheizung", "Lüftung", "Warmwasser"];

/// Accumulates datapoints; each system gets one method.
#[derive(Default)]
struct CatalogueBuilder {
    datapoints: Vec<DatapointSpec>,
    next_objinstance: u32,
}

/// The parts of a datapoint that vary between entries; the builder fills in the rest.
struct Entry {
    name: String,
    system: String,
    device_instance: u32,
    objtype: ObjectType,
    units: &'static str,
    description: String,
    signal: Signal,
    cadence: Cadence,
    decimals: u8,
}

fn periodic(period_millis: u32) -> Cadence {
    Cadence::Periodic { period_millis }
}

fn binary(mean_on_secs: f64, mean_off_secs: f64) -> Signal {
    Signal::Binary {
        mean_on_secs,
        mean_off_secs,
    }
}

fn daily(mean: f64, amplitude: f64, peak_hour: f64, walk_step: f64, min: f64, max: f64) -> Signal {
    Signal::Daily {
        mean,
        amplitude,
        peak_hour,
        walk_step,
        min,
        max,
    }
}

fn load(base: f64, peak: f64, noise: f64) -> Signal {
    Signal::Load { base, peak, noise }
}

fn follow(leader: usize, offset: f64, tau_secs: f64, noise: f64) -> Signal {
    Signal::Follow {
        leader,
        offset,
        tau_secs,
        noise,
    }
}

impl CatalogueBuilder {
    /// Adds a datapoint and returns its index (for [`Signal::Follow`] leaders).
    fn push(&mut self, entry: Entry) -> usize {
        self.push_with_range(entry, None)
    }

    fn push_with_range(&mut self, entry: Entry, write_range: Option<WriteRange>) -> usize {
        self.next_objinstance += 1;
        self.datapoints.push(DatapointSpec {
            name: entry.name,
            system: entry.system,
            device_instance: entry.device_instance,
            objtype: entry.objtype,
            objinstance: self.next_objinstance,
            units: entry.units,
            description: entry.description,
            signal: entry.signal,
            cadence: entry.cadence,
            decimals: entry.decimals,
            write_range,
        });
        self.datapoints.len() - 1
    }

    /// Adds a writable setpoint that steps through `levels` and accepts writes within `range`.
    fn push_setpoint(&mut self, entry: Entry, range: (f64, f64)) -> usize {
        let (min, max) = range;
        self.push_with_range(entry, Some(WriteRange { min, max }))
    }

    fn weather_station(&mut self) {
        let system = "Wetterstation";
        let device = 100_001;
        let prefix = "AS01-100001_C'Wetter'";
        let entries = [
            (
                "Außentemperatur Büro °C".to_owned(),
                ObjectType::AnalogInput,
                "°C",
                "Außentemperatur am Bürotrakt",
                daily(9.0, 5.0, 15.0, 0.05, -20.0, 40.0),
                periodic(10_000),
            ),
            (
                format!("{prefix}Feuchte"),
                ObjectType::AnalogInput,
                "%",
                "Relative Außenluftfeuchte",
                daily(70.0, 15.0, 5.0, 0.1, 10.0, 100.0),
                periodic(10_000),
            ),
            (
                format!("{prefix}Globalstrahlung"),
                ObjectType::AnalogInput,
                "W/m²",
                "Globalstrahlung horizontal",
                daily(150.0, 300.0, 13.0, 2.0, 0.0, 1100.0),
                periodic(5_000),
            ),
            (
                format!("{prefix}Windgeschw"),
                ObjectType::AnalogInput,
                "m/s",
                "Windgeschwindigkeit",
                daily(3.0, 1.0, 16.0, 0.3, 0.0, 30.0),
                periodic(2_000),
            ),
            (
                "Wetterstation Regen \"aktiv\"".to_owned(),
                ObjectType::BinaryInput,
                "",
                "Regensensor meldet Niederschlag",
                binary(600.0, 1800.0),
                periodic(10_000),
            ),
        ];
        for (name, objtype, units, description, signal, cadence) in entries {
            let decimals = if objtype == ObjectType::BinaryInput {
                0
            } else {
                2
            };
            self.push(Entry {
                name,
                system: system.to_owned(),
                device_instance: device,
                objtype,
                units,
                description: description.to_owned(),
                signal,
                cadence,
                decimals,
            });
        }
    }

    fn air_handling_unit(&mut self, ahu: u32) {
        let system = format!("RLT{ahu:02}");
        let device = 239_290 + ahu;
        let prefix = format!("AS11-{device}_C'RLT{ahu:02}'");
        let analog = |name: &str, units, description: &str, signal, cadence| Entry {
            name: format!("{prefix}{name}"),
            system: system.clone(),
            device_instance: device,
            objtype: ObjectType::AnalogInput,
            units,
            description: format!("{system} {description}"),
            signal,
            cadence,
            decimals: 2,
        };
        let setpoint = self.push_setpoint(
            Entry {
                objtype: ObjectType::AnalogValue,
                decimals: 1,
                ..analog(
                    "ZulTempSoll",
                    "°C",
                    "Zulufttemperatur Sollwert",
                    Signal::Stepped {
                        levels: vec![18.0, 19.0, 20.0, 19.0],
                        hold_secs: 300,
                    },
                    periodic(10_000),
                )
            },
            (14.0, 26.0),
        );
        // One AHU samples its duct pressure at 10 Hz: the fastest signal in the building.
        let pressure_period = if ahu == 1 { 100 } else { 500 };
        let mut entries = vec![
            analog(
                "ZulTemp",
                "°C",
                "Zulufttemperatur",
                follow(setpoint, 0.0, 120.0, 0.05),
                periodic(1_000),
            ),
            analog(
                "AblTemp",
                "°C",
                "Ablufttemperatur",
                daily(22.0, 1.5, 16.0, 0.02, 15.0, 30.0),
                periodic(2_000),
            ),
            analog(
                "AulTemp",
                "°C",
                "Außenlufttemperatur",
                daily(9.0, 5.0, 15.0, 0.05, -20.0, 40.0),
                periodic(5_000),
            ),
            analog(
                "FortlTemp",
                "°C",
                "Fortlufttemperatur",
                daily(12.0, 3.0, 15.0, 0.05, -10.0, 35.0),
                periodic(5_000),
            ),
            analog(
                "ZulVent'Drehzahl",
                "%",
                "Zuluftventilator Drehzahl",
                load(30.0, 80.0, 1.5),
                periodic(500),
            ),
            analog(
                "AblVent'Drehzahl",
                "%",
                "Abluftventilator Drehzahl",
                load(28.0, 75.0, 1.5),
                periodic(500),
            ),
            analog(
                "Filter'Diffdruck",
                "Pa",
                "Filterdifferenzdruck",
                daily(120.0, 10.0, 12.0, 0.2, 40.0, 400.0),
                periodic(10_000),
            ),
            analog(
                "WRG'Wirkungsgrad",
                "%",
                "Wärmerückgewinnung Wirkungsgrad",
                daily(72.0, 5.0, 4.0, 0.1, 40.0, 95.0),
                periodic(5_000),
            ),
            analog(
                "ZulFeuchte",
                "%",
                "Zuluftfeuchte",
                daily(45.0, 5.0, 14.0, 0.1, 20.0, 80.0),
                periodic(5_000),
            ),
            analog(
                "Erhitzer'Ventil",
                "%",
                "Ventilstellung Erhitzer",
                load(5.0, 60.0, 2.0),
                periodic(1_000),
            ),
            analog(
                "Kuehler'Ventil",
                "%",
                "Ventilstellung Kühler",
                load(0.0, 40.0, 2.0),
                periodic(1_000),
            ),
            analog(
                "ZulDruck",
                "Pa",
                "Kanaldruck Zuluft",
                load(250.0, 420.0, 6.0),
                periodic(pressure_period),
            ),
        ];
        for (name, description) in [
            ("ZulVent'Betrieb", "Zuluftventilator Betriebsmeldung"),
            ("AblVent'Betrieb", "Abluftventilator Betriebsmeldung"),
        ] {
            entries.push(Entry {
                objtype: ObjectType::BinaryInput,
                decimals: 0,
                ..analog(name, "", description, binary(900.0, 120.0), periodic(5_000))
            });
        }
        for entry in entries {
            self.push(entry);
        }
    }

    fn heating_circuit(&mut self, circuit: usize, label: &str) {
        let system = format!("HK{circuit:02}");
        let device = 4100 + u32::try_from(circuit).unwrap_or(0);
        let base = format!("bacnet110-3{circuit}01");
        let name = |kind: &str, what: &str| format!("{base}-{kind}-heating-circuit-{what}");
        let description = |text: &str| format!("Heizkreis {label} {text}");
        let (flow_levels, range) = if label == "Fußbodenheizung" {
            (vec![32.0, 35.0, 30.0], (20.0, 45.0))
        } else {
            (vec![55.0, 60.0, 65.0, 60.0], (20.0, 75.0))
        };
        let setpoint = self.push_setpoint(
            Entry {
                name: name("Real", "flow-temperature-setpoint-HKVTs_real"),
                system: system.clone(),
                device_instance: device,
                objtype: ObjectType::AnalogValue,
                units: "°C",
                description: description("Vorlauftemperatur Sollwert"),
                signal: Signal::Stepped {
                    levels: flow_levels,
                    hold_secs: 600,
                },
                cadence: periodic(10_000),
                decimals: 1,
            },
            range,
        );
        let flow = self.push(Entry {
            name: name("Real", "flow-temperature-HKVT_real"),
            system: system.clone(),
            device_instance: device,
            objtype: ObjectType::AnalogInput,
            units: "°C",
            description: description("Vorlauftemperatur"),
            signal: follow(setpoint, 0.0, 300.0, 0.1),
            cadence: periodic(2_000),
            decimals: 2,
        });
        self.push(Entry {
            name: name("Real", "return-temperature-HKRT_real"),
            system: system.clone(),
            device_instance: device,
            objtype: ObjectType::AnalogInput,
            units: "°C",
            description: description("Rücklauftemperatur"),
            signal: follow(flow, -10.0, 400.0, 0.1),
            cadence: periodic(2_000),
            decimals: 2,
        });
        self.push(Entry {
            name: name("Bin", "pump-status-HKP_bin"),
            system: system.clone(),
            device_instance: device,
            objtype: ObjectType::BinaryInput,
            units: "",
            description: description("Pumpe Betriebsmeldung"),
            signal: binary(1800.0, 300.0),
            cadence: periodic(5_000),
            decimals: 0,
        });
        self.push(Entry {
            name: name("Real", "pump-speed-HKPn_real"),
            system: system.clone(),
            device_instance: device,
            objtype: ObjectType::AnalogInput,
            units: "%",
            description: description("Pumpe Drehzahl"),
            signal: load(30.0, 90.0, 1.0),
            cadence: periodic(1_000),
            decimals: 1,
        });
        self.push(Entry {
            name: name("Real", "valve-position-HKY_real"),
            system: system.clone(),
            device_instance: device,
            objtype: ObjectType::AnalogInput,
            units: "%",
            description: description("Mischventil Stellung"),
            signal: load(10.0, 85.0, 2.0),
            cadence: periodic(1_000),
            decimals: 1,
        });
    }

    fn rooms(&mut self) {
        for (number, room) in [4110, 4120, 4130, 4140, 4150, 4160].into_iter().enumerate() {
            let names = RoomNames {
                temperature: format!("bacnet100-{room}-Real-room-temperature-RT_real"),
                setpoint: format!("bacnet100-{room}-Real-room-temperature-setpoint-RTs_real"),
                co2: format!("bacnet100-{room}-Real-room-air-quality-CO2_real"),
                presence: format!("bacnet100-{room}-Bin-room-presence-PIR_bin"),
                window: format!("bacnet100-{room}-Bin-room-window-contact-FK_bin"),
            };
            self.room(&format!("Raum {room}"), 100 + room, names, number);
        }
        for (number, room) in [
            "1.OG 111", "1.OG 113", "1.OG 115", "2.OG 201", "2.OG 204", "EG Foyer",
        ]
        .into_iter()
        .enumerate()
        {
            let names = RoomNames {
                temperature: format!("Raum {room} Temperatur"),
                setpoint: format!("Raum {room} Sollwert"),
                co2: format!("Raum {room} CO2"),
                presence: format!("Raum {room} Präsenz"),
                window: format!("Raum {room} Fensterkontakt"),
            };
            self.room(
                &format!("Raum {room}"),
                200_300 + 10 * number as u32,
                names,
                number + 6,
            );
        }
        for floor in 1..=4u32 {
            let prefix = format!("AS21-2402{floor:02}_C'R2.0{floor}'");
            let names = RoomNames {
                temperature: format!("{prefix}RaumTemp"),
                setpoint: format!("{prefix}RaumTempSoll"),
                co2: format!("{prefix}CO2"),
                presence: format!("{prefix}Praesenz"),
                window: format!("{prefix}Fenster"),
            };
            self.room(
                &format!("R2.0{floor}"),
                240_200 + floor,
                names,
                12 + floor as usize,
            );
        }
        self.special_rooms();
    }

    /// Five datapoints of one room: the temperature follows the (writable) setpoint.
    fn room(&mut self, system: &str, device: u32, names: RoomNames, number: usize) {
        let levels = if number.is_multiple_of(2) {
            vec![21.0, 21.5, 20.0]
        } else {
            vec![22.0, 21.0, 20.5]
        };
        let setpoint = self.push_setpoint(
            Entry {
                name: names.setpoint,
                system: system.to_owned(),
                device_instance: device,
                objtype: ObjectType::AnalogValue,
                units: "°C",
                description: format!("{system} Raumtemperatur Sollwert"),
                signal: Signal::Stepped {
                    levels,
                    hold_secs: 240 + 20 * number as u32,
                },
                cadence: periodic(10_000),
                decimals: 1,
            },
            (12.0, 28.0),
        );
        self.push(Entry {
            name: names.temperature,
            system: system.to_owned(),
            device_instance: device,
            objtype: ObjectType::AnalogInput,
            units: "°C",
            description: format!("{system} Raumtemperatur"),
            signal: follow(setpoint, -0.3, 600.0, 0.03),
            cadence: periodic(5_000),
            decimals: 2,
        });
        // Every third room has a battery radio CO2 sensor that drops out now and then.
        let co2_cadence = if number % 3 == 1 {
            Cadence::Intermittent {
                period_millis: 5_000,
                active_secs: 120,
                quiet_secs: 180,
            }
        } else {
            periodic(5_000)
        };
        self.push(Entry {
            name: names.co2,
            system: system.to_owned(),
            device_instance: device,
            objtype: ObjectType::AnalogInput,
            units: "ppm",
            description: format!("{system} CO2-Konzentration"),
            signal: daily(650.0, 250.0, 11.0, 3.0, 400.0, 2000.0),
            cadence: co2_cadence,
            decimals: 0,
        });
        self.push(Entry {
            name: names.presence,
            system: system.to_owned(),
            device_instance: device,
            objtype: ObjectType::BinaryInput,
            units: "",
            description: format!("{system} Präsenzmelder"),
            signal: binary(300.0, 200.0),
            cadence: periodic(2_000),
            decimals: 0,
        });
        self.push(Entry {
            name: names.window,
            system: system.to_owned(),
            device_instance: device,
            objtype: ObjectType::BinaryInput,
            units: "",
            description: format!("{system} Fensterkontakt"),
            signal: binary(240.0, 3600.0),
            cadence: periodic(10_000),
            decimals: 0,
        });
    }

    /// Names that need line-protocol escaping: spaces, quotes, commas, `=`.
    fn special_rooms(&mut self) {
        let entries = [
            (
                "this is a \"datapoint\" with spaces and quotes",
                "Besprechung",
            ),
            ("Büro 2.OG, Süd=Ecke Temperatur", "Büro 2.OG Süd"),
            ("AS11-239291_C'Btr06'TempHall", "Halle"),
        ];
        for (name, system) in entries {
            self.push(Entry {
                name: name.to_owned(),
                system: system.to_owned(),
                device_instance: 239_291,
                objtype: ObjectType::AnalogInput,
                units: "°C",
                description: format!("{system} Temperatur"),
                signal: daily(20.5, 1.5, 15.0, 0.02, 10.0, 35.0),
                cadence: periodic(3_000),
                decimals: 2,
            });
        }
    }

    fn meters(&mut self) {
        self.electricity_meters();
        self.heat_meters();
        let utilities = [
            (
                "Wasserzähler Haupt m³",
                "m³",
                "Kaltwasser Hauptzähler",
                1.2,
                1_842.0,
                batch(6, 60),
            ),
            (
                "Gaszähler Kessel",
                "m³",
                "Gaszähler Kesselanlage",
                18.0,
                95_310.0,
                gas_cadence(),
            ),
        ];
        for (name, units, description, rate_per_hour, start, cadence) in utilities {
            self.push(Entry {
                name: name.to_owned(),
                system: "Zähler".to_owned(),
                device_instance: 300_001,
                objtype: ObjectType::Accumulator,
                units,
                description: description.to_owned(),
                signal: Signal::Counter {
                    start,
                    rate_per_hour,
                },
                cadence,
                decimals: 3,
            });
        }
    }

    fn electricity_meters(&mut self) {
        self.push(Entry {
            name: "bacnet221-AbsPower_SI".to_owned(),
            system: "Hauptzähler".to_owned(),
            device_instance: 221,
            objtype: ObjectType::AnalogInput,
            units: "kW",
            description: "Wirkleistung Hauptzähler".to_owned(),
            signal: load(45.0, 180.0, 3.0),
            cadence: periodic(1_000),
            decimals: 2,
        });
        self.push(Entry {
            name: "bacnet221-Energy_SI".to_owned(),
            system: "Hauptzähler".to_owned(),
            device_instance: 221,
            objtype: ObjectType::Accumulator,
            units: "kWh",
            description: "Wirkarbeit Hauptzähler".to_owned(),
            signal: Signal::Counter {
                start: 1_254_880.0,
                rate_per_hour: 150.0,
            },
            cadence: Cadence::Burst {
                count: 20,
                every_secs: 30,
            },
            decimals: 3,
        });
        for distribution in 1..=8u32 {
            let system = format!("UV{distribution}");
            self.push(Entry {
                name: format!("Zähler UV{distribution} Wirkleistung"),
                system: system.clone(),
                device_instance: 222 + distribution,
                objtype: ObjectType::AnalogInput,
                units: "kW",
                description: format!("Unterverteilung {distribution} Wirkleistung"),
                signal: load(2.0, 25.0, 0.5),
                cadence: periodic(2_000),
                decimals: 2,
            });
            // Half the sub-meters flush buffered readings as bursts, half as multi-line batches.
            let cadence = if distribution % 2 == 0 {
                Cadence::Burst {
                    count: 20,
                    every_secs: 30,
                }
            } else {
                batch(10, 20)
            };
            self.push(Entry {
                name: format!("Zähler UV{distribution} Energie"),
                system: system.clone(),
                device_instance: 222 + distribution,
                objtype: ObjectType::Accumulator,
                units: "kWh",
                description: format!("Unterverteilung {distribution} Wirkarbeit"),
                signal: Signal::Counter {
                    start: 10_000.0 * f64::from(distribution),
                    rate_per_hour: 20.0,
                },
                cadence,
                decimals: 3,
            });
        }
    }

    fn heat_meters(&mut self) {
        for circuit in 1..=5u32 {
            let system = format!("HK{circuit:02}");
            let device = 4100 + circuit;
            let entries = [
                (
                    "Leistung",
                    "kW",
                    "Wärmeleistung",
                    load(5.0, 60.0, 1.0),
                    periodic(2_000),
                    2,
                ),
                (
                    "Volumenstrom",
                    "m³/h",
                    "Volumenstrom",
                    load(0.5, 4.0, 0.05),
                    periodic(2_000),
                    3,
                ),
            ];
            for (what, units, description, signal, cadence, decimals) in entries {
                self.push(Entry {
                    name: format!("WMZ HK{circuit:02} {what}"),
                    system: system.clone(),
                    device_instance: device,
                    objtype: ObjectType::AnalogInput,
                    units,
                    description: format!("Wärmemengenzähler HK{circuit:02} {description}"),
                    signal,
                    cadence,
                    decimals,
                });
            }
            self.push(Entry {
                name: format!("WMZ HK{circuit:02} Wärmemenge"),
                system: system.clone(),
                device_instance: device,
                objtype: ObjectType::Accumulator,
                units: "MWh",
                description: format!("Wärmemengenzähler HK{circuit:02} Wärmemenge"),
                signal: Signal::Counter {
                    start: 300.0 * f64::from(circuit),
                    rate_per_hour: 0.04,
                },
                cadence: batch(4, 30),
                decimals: 4,
            });
        }
    }

    fn chiller(&mut self, chiller: u32) {
        let system = format!("KM{chiller:02}");
        let device = 250_300 + chiller;
        let prefix = format!("AS31-{device}_C'KM{chiller:02}'");
        let setpoint = self.push_setpoint(
            Entry {
                name: format!("{prefix}VLTempSoll"),
                system: system.clone(),
                device_instance: device,
                objtype: ObjectType::AnalogValue,
                units: "°C",
                description: format!("{system} Kaltwasser Vorlauf Sollwert"),
                signal: Signal::Stepped {
                    levels: vec![6.0, 7.0, 8.0, 7.0],
                    hold_secs: 420,
                },
                cadence: periodic(10_000),
                decimals: 1,
            },
            (5.0, 12.0),
        );
        let supply = self.push(Entry {
            name: format!("{prefix}VLTemp"),
            system: system.clone(),
            device_instance: device,
            objtype: ObjectType::AnalogInput,
            units: "°C",
            description: format!("{system} Kaltwasser Vorlauftemperatur"),
            signal: follow(setpoint, 0.0, 180.0, 0.05),
            cadence: periodic(2_000),
            decimals: 2,
        });
        let analog = [
            (
                "RLTemp",
                "°C",
                "Kaltwasser Rücklauftemperatur",
                follow(supply, 5.0, 240.0, 0.05),
            ),
            ("Leistung", "kW", "Kälteleistung", load(20.0, 220.0, 4.0)),
            (
                "COP",
                "",
                "Leistungszahl",
                daily(3.5, 0.5, 4.0, 0.02, 1.5, 6.0),
            ),
        ];
        for (what, units, description, signal) in analog {
            self.push(Entry {
                name: format!("{prefix}{what}"),
                system: system.clone(),
                device_instance: device,
                objtype: ObjectType::AnalogInput,
                units,
                description: format!("{system} {description}"),
                signal,
                cadence: periodic(2_000),
                decimals: 2,
            });
        }
        let binaries = [
            ("Status", "Betriebsmeldung", binary(1200.0, 600.0)),
            ("Stoerung", "Sammelstörung", binary(60.0, 7200.0)),
        ];
        for (what, description, signal) in binaries {
            self.push(Entry {
                name: format!("{prefix}{what}"),
                system: system.clone(),
                device_instance: device,
                objtype: ObjectType::BinaryInput,
                units: "",
                description: format!("{system} {description}"),
                signal,
                cadence: periodic(5_000),
                decimals: 0,
            });
        }
    }

    fn boiler_plant(&mut self) {
        let system = "Kesselanlage";
        let device = 260_001;
        let entries = [
            (
                "Kessel 1 Vorlauftemperatur",
                ObjectType::AnalogInput,
                "°C",
                daily(68.0, 4.0, 7.0, 0.1, 30.0, 90.0),
            ),
            (
                "Kessel 1 Brenner Modulation %",
                ObjectType::AnalogInput,
                "%",
                load(20.0, 95.0, 3.0),
            ),
            (
                "Kessel 1 Betrieb",
                ObjectType::BinaryInput,
                "",
                binary(1500.0, 600.0),
            ),
            (
                "Kessel 1 Störung",
                ObjectType::BinaryInput,
                "",
                binary(30.0, 10_800.0),
            ),
            (
                "Wärmepumpe WP1 Vorlauf",
                ObjectType::AnalogInput,
                "°C",
                daily(42.0, 3.0, 15.0, 0.05, 20.0, 60.0),
            ),
            (
                "Wärmepumpe WP1 COP",
                ObjectType::TrendLog,
                "",
                daily(3.9, 0.6, 15.0, 0.02, 1.5, 6.0),
            ),
        ];
        for (name, objtype, units, signal) in entries {
            let decimals = if objtype == ObjectType::BinaryInput {
                0
            } else {
                2
            };
            self.push(Entry {
                name: name.to_owned(),
                system: system.to_owned(),
                device_instance: device,
                objtype,
                units,
                description: name.to_owned(),
                signal,
                cadence: periodic(3_000),
                decimals,
            });
        }
    }
}

/// The five datapoint names of one room.
struct RoomNames {
    temperature: String,
    setpoint: String,
    co2: String,
    presence: String,
    window: String,
}

fn batch(count: u32, every_secs: u32) -> Cadence {
    Cadence::Batch { count, every_secs }
}

/// The gas meter reports every 5 s but regularly goes quiet for three minutes.
fn gas_cadence() -> Cadence {
    Cadence::Intermittent {
        period_millis: 5_000,
        active_secs: 60,
        quiet_secs: 180,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::model::aedifion::hash_id::hash_id;
    use crate::model::decode::influx::{escape_measurement, parse_payload, write_aedifion_value};

    #[test]
    fn the_catalogue_has_about_two_hundred_datapoints_with_unique_names_and_hash_ids() {
        let datapoints = catalogue();
        assert!(
            (200..=260).contains(&datapoints.len()),
            "{} datapoints",
            datapoints.len()
        );
        let names: HashSet<_> = datapoints.iter().map(|spec| spec.name.as_str()).collect();
        assert_eq!(names.len(), datapoints.len(), "duplicate names");
        let ids: HashSet<_> = datapoints
            .iter()
            .map(|spec| hash_id(&spec.name, 8))
            .collect();
        assert_eq!(ids.len(), datapoints.len(), "two names share a hash id");
        let instances: HashSet<_> = datapoints.iter().map(|spec| spec.objinstance).collect();
        assert_eq!(instances.len(), datapoints.len(), "duplicate objinstance");
    }

    #[test]
    fn the_catalogue_is_the_same_every_time() {
        assert_eq!(catalogue(), catalogue());
    }

    #[test]
    fn the_documented_example_names_and_tricky_characters_are_present() {
        let datapoints = catalogue();
        let names: HashSet<_> = datapoints.iter().map(|spec| spec.name.as_str()).collect();
        for name in [
            "AS11-239291_C'Btr06'TempHall",
            "bacnet100-4120-Real-room-temperature-setpoint-RTs_real",
            "bacnet221-AbsPower_SI",
            "Außentemperatur Büro °C",
            "this is a \"datapoint\" with spaces and quotes",
        ] {
            assert!(names.contains(name), "{name} missing");
        }
        let needs_escaping = datapoints
            .iter()
            .filter(|spec| escape_measurement(&spec.name) != spec.name)
            .count();
        assert!(
            needs_escaping >= 30,
            "only {needs_escaping} names need escaping"
        );
        assert!(names.iter().any(|name| name.contains(',')));
        assert!(names.iter().any(|name| name.contains('=')));
    }

    #[test]
    fn every_name_survives_writing_and_parsing_line_protocol() {
        for spec in catalogue() {
            let line = write_aedifion_value(&spec.name, 21.5, 1_700_000_000_000_000_000).unwrap();
            let parsed = parse_payload(&line);
            assert_eq!(parsed.len(), 1, "{line}");
            let parsed = parsed[0]
                .as_ref()
                .unwrap_or_else(|error| panic!("{line}: {error}"));
            assert_eq!(parsed.measurement, spec.name);
        }
    }

    #[test]
    fn rates_lie_between_a_tenth_and_ten_hertz() {
        for spec in catalogue() {
            let interval = spec.cadence.interval_millis();
            match spec.cadence {
                Cadence::Periodic { .. } | Cadence::Intermittent { .. } => {
                    assert!(
                        (100..=10_000).contains(&interval),
                        "{}: {interval} ms",
                        spec.name
                    );
                }
                Cadence::Burst { count, every_secs } | Cadence::Batch { count, every_secs } => {
                    let reading_millis = u64::from(every_secs) * 1000 / u64::from(count);
                    assert!((100..=10_000).contains(&reading_millis), "{}", spec.name);
                }
            }
        }
    }

    #[test]
    fn the_mix_of_cadences_and_signals_is_varied() {
        let datapoints = catalogue();
        let count = |predicate: &dyn Fn(&DatapointSpec) -> bool| {
            datapoints.iter().filter(|spec| predicate(spec)).count()
        };
        assert!(count(&|spec| matches!(spec.cadence, Cadence::Burst { .. })) >= 2);
        assert!(count(&|spec| matches!(spec.cadence, Cadence::Batch { .. })) >= 2);
        assert!(count(&|spec| matches!(spec.cadence, Cadence::Intermittent { .. })) >= 2);
        assert!(count(&|spec| matches!(spec.signal, Signal::Binary { .. })) >= 20);
        assert!(count(&|spec| matches!(spec.signal, Signal::Daily { .. })) >= 20);
        assert!(
            count(&|spec| spec.cadence.interval_millis() <= 100) >= 1,
            "no 10 Hz datapoint"
        );
    }

    #[test]
    fn followers_point_at_existing_datapoints_and_only_setpoints_are_writable() {
        let datapoints = catalogue();
        for spec in &datapoints {
            if let Signal::Follow { leader, .. } = spec.signal {
                assert!(leader < datapoints.len(), "{}", spec.name);
                assert_ne!(datapoints[leader].name, spec.name);
            }
            let is_setpoint = matches!(spec.signal, Signal::Stepped { .. });
            assert_eq!(spec.write_range.is_some(), is_setpoint, "{}", spec.name);
            if let (Some(range), Signal::Stepped { levels, .. }) = (spec.write_range, &spec.signal)
            {
                assert!(
                    levels.iter().all(|level| range.contains(*level)),
                    "{}",
                    spec.name
                );
            }
        }
        assert!(
            datapoints
                .iter()
                .filter(|spec| spec.write_range.is_some())
                .count()
                >= 20
        );
    }
}
