package sandbox

// Code systems, profiles and identifier systems used by the generated data.
const (
	sysSNOMED        = "http://snomed.info/sct"
	sysLOINC         = "http://loinc.org"
	sysUCUM          = "http://unitsofmeasure.org"
	sysNHSNumber     = "https://fhir.nhs.uk/Id/nhs-number"
	sysODSOrg        = "https://fhir.nhs.uk/Id/ods-organization-code"
	sysODSSite       = "https://fhir.nhs.uk/Id/ods-site-code"
	sysSDSUser       = "https://fhir.nhs.uk/Id/sds-user-id"
	sysLocalBase     = "https://fhir.sandbox.ccexplorer.example/Id/"
	sysPASNumber     = sysLocalBase + "pas-number"
	sysObsCategory   = "http://hl7.org/fhir/observation-category"
	sysCondCategory  = "http://hl7.org/fhir/condition-category"
	sysActCode       = "http://hl7.org/fhir/v3/ActCode"
	sysActReason     = "http://hl7.org/fhir/v3/ActReason"
	sysParticipant   = "http://hl7.org/fhir/v3/ParticipationType"
	sysEthnic        = "https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-EthnicCategory-1"
	sysNHSVerify     = "https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-NHSNumberVerificationStatus-1"
	sysOrgType       = "http://hl7.org/fhir/organization-type"
	extEthnic        = "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-EthnicCategory-1"
	extNHSVerify     = "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-NHSNumberVerificationStatus-1"
	extDateRecorded  = "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-DateRecorded-1"
	profileBase      = "https://fhir.hl7.org.uk/STU3/StructureDefinition/"
	profileSuffix    = "-1"
	careConnectLabel = "CareConnect-"
)

// profileFor returns the Care Connect profile URL of a resource type.
func profileFor(typ string) string { return profileBase + careConnectLabel + typ + profileSuffix }

var nhsVerified = coding{sysNHSVerify, "01", "Number present and verified"}

var ethnicCategories = []coding{
	{sysEthnic, "A", "British, Mixed British"},
	{sysEthnic, "B", "Irish"},
	{sysEthnic, "C", "Any other White background"},
	{sysEthnic, "D", "White and Black Caribbean"},
	{sysEthnic, "E", "White and Black African"},
	{sysEthnic, "F", "White and Asian"},
	{sysEthnic, "G", "Any other mixed background"},
	{sysEthnic, "H", "Indian or British Indian"},
	{sysEthnic, "J", "Pakistani or British Pakistani"},
	{sysEthnic, "K", "Bangladeshi or British Bangladeshi"},
	{sysEthnic, "L", "Any other Asian background"},
	{sysEthnic, "M", "Caribbean"},
	{sysEthnic, "N", "African"},
	{sysEthnic, "R", "Chinese"},
	{sysEthnic, "S", "Any other ethnic group"},
	{sysEthnic, "Z", "Not stated"},
}

// ethnicWeights biases the categories roughly like a northern English town.
var ethnicWeights = []int{60, 2, 5, 1, 1, 1, 1, 5, 7, 2, 2, 1, 2, 1, 2, 7}

type town struct {
	name, county, outward string
	districts             []int
	phone                 string // Ofcom drama-number prefix
}

var towns = []town{
	{"Leeds", "West Yorkshire", "LS", []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 25, 26, 27, 28}, "0113 496 0"},
	{"Bradford", "West Yorkshire", "BD", []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 18}, "01274 496 0"},
	{"Wakefield", "West Yorkshire", "WF", []int{1, 2, 3, 4, 5, 6, 8, 9, 10, 11}, "01924 496 0"},
	{"Sheffield", "South Yorkshire", "S", []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 17, 20}, "0114 496 0"},
	{"York", "North Yorkshire", "YO", []int{1, 10, 23, 24, 26, 30, 31, 32}, "01904 496 0"},
	{"Harrogate", "North Yorkshire", "HG", []int{1, 2, 3, 5}, "01423 496 0"},
	{"Manchester", "Greater Manchester", "M", []int{1, 4, 8, 9, 11, 12, 13, 14, 15, 16, 19, 20, 21, 22, 23, 40}, "0161 496 0"},
	{"Newcastle upon Tyne", "Tyne and Wear", "NE", []int{1, 2, 3, 4, 5, 6, 7, 12, 13, 15}, "0191 498 0"},
}

// postcodeInwardLetters are the letters allowed in the last two places of a UK postcode.
const postcodeInwardLetters = "ABDEFGHJLNPQRSTUWXYZ"

var streetNames = []string{
	"Church Street", "High Street", "Station Road", "Victoria Road", "Park Lane", "Mill Lane",
	"Chapel Street", "Queen Street", "King Street", "Grove Road", "Springfield Road", "Moor Lane",
	"Westfield Avenue", "Beech Grove", "Oak Tree Close", "Manor Road", "Hall Lane", "Green Lane",
	"North Parade", "Albert Terrace", "Cliff Road", "Woodhouse Lane", "Ash Crescent", "Elm Walk",
}

var familyNames = []string{
	"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson", "Wright",
	"Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson", "Clarke",
	"Patel", "Khan", "Hussain", "Ali", "Begum", "Shah", "Ahmed", "Kaur", "Singh", "Chen",
	"Okafor", "Mensah", "Nowak", "Kowalski", "Murphy", "O'Brien", "Kelly", "Hughes", "Edwards", "Lewis",
	"Harris", "Martin", "Cooper", "Ward", "Turner", "Hill", "Scott", "Moore", "Parker", "Bennett",
}

var maleGiven = []string{
	"Oliver", "George", "Harry", "Jack", "Jacob", "Noah", "Charlie", "Muhammad", "Thomas", "Oscar",
	"William", "James", "Henry", "Leo", "Alfie", "Joshua", "Freddie", "Archie", "Ethan", "Isaac",
	"David", "Michael", "John", "Peter", "Robert", "Paul", "Mark", "Stephen", "Andrew", "Ian",
	"Tomasz", "Ravi", "Imran", "Kwame", "Sean",
}

var femaleGiven = []string{
	"Olivia", "Amelia", "Isla", "Ava", "Emily", "Isabella", "Mia", "Poppy", "Ella", "Lily",
	"Jessica", "Sophie", "Grace", "Ruby", "Evie", "Freya", "Chloe", "Daisy", "Alice", "Florence",
	"Susan", "Margaret", "Patricia", "Elizabeth", "Sarah", "Karen", "Helen", "Julie", "Anne", "Mary",
	"Aisha", "Priya", "Fatima", "Agnieszka", "Siobhan",
}

var practiceNames = []string{
	"Beech Tree", "Riverside", "Park View", "Church Lane", "Moorside", "Valley", "Hillcrest", "Oakwood",
	"Meadowbank", "Kirkgate", "Fountain", "Westgate", "Northfield", "Southview", "Abbey", "Castle",
}

var practiceKinds = []string{"Surgery", "Medical Centre", "Health Centre", "Medical Practice"}

// trusts are fictional hospital trusts; ODS-style codes, no real organisation is meant.
var trusts = []struct{ code, name, site string }{
	{"RXA", "Airedale Valley Teaching Hospitals NHS Trust", "Airedale Valley General Infirmary"},
	{"RXB", "Calder and Aire Hospitals NHS Foundation Trust", "Calderdale Royal Hospital"},
	{"RXC", "Northern Moors NHS Trust", "Moorland District Hospital"},
}

// Encounter classes (HL7 v3 ActCode) and SNOMED CT encounter types.
var (
	classAmbulatory = coding{sysActCode, "AMB", "ambulatory"}
	classInpatient  = coding{sysActCode, "IMP", "inpatient encounter"}
	classEmergency  = coding{sysActCode, "EMER", "emergency"}

	encGPConsultation = coding{sysSNOMED, "11429006", "Consultation"}
	encFollowUp       = coding{sysSNOMED, "185389009", "Follow-up visit"}
	encCheckUp        = coding{sysSNOMED, "185349003", "Encounter for check up"}
	encEmergencyRoom  = coding{sysSNOMED, "50849002", "Emergency room admission"}
	encEmergencyAdmit = coding{sysSNOMED, "183452005", "Emergency hospital admission"}
)

// conditionCodes are SNOMED CT clinical findings / disorders.
var conditionCodes = []coding{
	{sysSNOMED, "44054006", "Diabetes mellitus type 2"},
	{sysSNOMED, "38341003", "Hypertensive disorder, systemic arterial"},
	{sysSNOMED, "195967001", "Asthma"},
	{sysSNOMED, "13645005", "Chronic obstructive lung disease"},
	{sysSNOMED, "35489007", "Depressive disorder"},
	{sysSNOMED, "49436004", "Atrial fibrillation"},
	{sysSNOMED, "414545008", "Ischemic heart disease"},
	{sysSNOMED, "40930008", "Hypothyroidism"},
	{sysSNOMED, "197480006", "Anxiety disorder"},
	{sysSNOMED, "396275006", "Osteoarthritis"},
	{sysSNOMED, "73430006", "Sleep apnea"},
	{sysSNOMED, "69896004", "Rheumatoid arthritis"},
}

var (
	catProblemList = coding{sysCondCategory, "problem-list-item", "Problem List Item"}
	catEncounterDx = coding{sysCondCategory, "encounter-diagnosis", "Encounter Diagnosis"}
)

// procedureCodes are SNOMED CT procedures.
var procedureCodes = []coding{
	{sysSNOMED, "80146002", "Appendectomy"},
	{sysSNOMED, "38102005", "Cholecystectomy"},
	{sysSNOMED, "73761001", "Colonoscopy"},
	{sysSNOMED, "52734007", "Total replacement of hip"},
	{sysSNOMED, "609588000", "Total knee replacement"},
	{sysSNOMED, "232717009", "Coronary artery bypass grafting"},
	{sysSNOMED, "284350006", "Diabetes mellitus diet education"},
}

// allergyCodes are SNOMED CT allergy findings with their STU3 category.
var allergyCodes = []struct {
	code     coding
	category string
}{
	{coding{sysSNOMED, "91936005", "Allergy to penicillin"}, "medication"},
	{coding{sysSNOMED, "91935009", "Allergy to peanut"}, "food"},
	{coding{sysSNOMED, "300913006", "Shellfish allergy"}, "food"},
	{coding{sysSNOMED, "418689008", "Allergy to grass pollen"}, "environment"},
	{coding{sysSNOMED, "232347008", "Dander (animal) allergy"}, "environment"},
	{coding{sysSNOMED, "300916003", "Latex allergy"}, "environment"},
}

var reactionCodes = []coding{
	{sysSNOMED, "39579001", "Anaphylaxis"},
	{sysSNOMED, "271807003", "Eruption of skin"},
	{sysSNOMED, "267036007", "Dyspnea"},
	{sysSNOMED, "418290006", "Itching"},
	{sysSNOMED, "76067001", "Sneezing"},
}

// medicine is a dm+d virtual medicinal product (dm+d codes are SNOMED CT UK drug extension concepts).
type medicine struct {
	code   coding
	form   string // dispensing unit
	dosage string
	treats string // SNOMED code of the condition it is usually prescribed for ("" for any)
}

var medicines = []medicine{
	{coding{sysSNOMED, "325278007", "Metformin 500mg tablets"}, "tablet", "One tablet twice a day with meals", "44054006"},
	{coding{sysSNOMED, "319773006", "Amlodipine 5mg tablets"}, "tablet", "One tablet once a day", "38341003"},
	{coding{sysSNOMED, "320000009", "Simvastatin 40mg tablets"}, "tablet", "One tablet at night", "414545008"},
	{coding{sysSNOMED, "39113611000001102", "Salbutamol 100micrograms/dose inhaler CFC free"}, "dose", "Two puffs when required", "195967001"},
	{coding{sysSNOMED, "323509004", "Amoxicillin 500mg capsules"}, "capsule", "One capsule three times a day for 7 days", ""},
	{coding{sysSNOMED, "322236009", "Paracetamol 500mg tablets"}, "tablet", "One or two tablets up to four times a day", ""},
}

// vaccineCodes are SNOMED CT vaccine codes as used in UK records.
var vaccineCodes = []coding{
	{sysSNOMED, "308081000000105", "MMR"},
	{sysSNOMED, "396425006", "Influenza virus vaccine"},
	{sysSNOMED, "333598008", "Pneumococcal vaccine"},
	{sysSNOMED, "1119349007", "SARS-CoV-2 mRNA vaccine"},
}

var notGivenReasons = []coding{
	{sysActReason, "PATOBJ", "patient objection"},
	{sysActReason, "MEDPREC", "medical precaution"},
	{sysActReason, "OSTOCK", "product out of stock"},
}

// documentTypes are SNOMED CT record artifact types for DocumentReference.type.
var documentTypes = []coding{
	{sysSNOMED, "373942005", "Discharge summary"},
	{sysSNOMED, "371530004", "Clinical consultation report"},
	{sysSNOMED, "4241000179101", "Laboratory report"},
}

// Observation codes (SNOMED CT with the LOINC equivalents) and UCUM units.
var (
	obsCatVital  = coding{sysObsCategory, "vital-signs", "Vital Signs"}
	obsCatSocial = coding{sysObsCategory, "social-history", "Social History"}

	obsBP         = []coding{{sysSNOMED, "75367002", "Blood pressure"}, {sysLOINC, "85354-9", "Blood pressure panel with all children optional"}}
	obsSystolic   = []coding{{sysSNOMED, "72313002", "Systolic arterial pressure"}, {sysLOINC, "8480-6", "Systolic blood pressure"}}
	obsDiastolic  = []coding{{sysSNOMED, "1091811000000102", "Diastolic arterial pressure"}, {sysLOINC, "8462-4", "Diastolic blood pressure"}}
	obsHeartRate  = []coding{{sysSNOMED, "364075005", "Heart rate"}, {sysLOINC, "8867-4", "Heart rate"}}
	obsBodyWeight = []coding{{sysSNOMED, "27113001", "Body weight"}, {sysLOINC, "29463-7", "Body weight"}}
	obsBMI        = []coding{{sysSNOMED, "60621009", "Body mass index"}, {sysLOINC, "39156-5", "Body mass index (BMI) [Ratio]"}}
	obsSmoking    = []coding{{sysSNOMED, "229819007", "Tobacco use and exposure"}, {sysLOINC, "72166-2", "Tobacco smoking status"}}

	smokingValues = []coding{
		{sysSNOMED, "266919005", "Never smoked tobacco"},
		{sysSNOMED, "8517006", "Ex-smoker"},
		{sysSNOMED, "77176002", "Smoker"},
	}
)

type unit struct{ unit, code string }

var (
	unitMmHg    = unit{"mm[Hg]", "mm[Hg]"}
	unitPerMin  = unit{"beats/minute", "/min"}
	unitKg      = unit{"kg", "kg"}
	unitKgPerM2 = unit{"kg/m2", "kg/m2"}
)
